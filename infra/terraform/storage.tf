# Model weights (immutable once published: `groundwork models push` refuses to overwrite) and the registry.
resource "google_storage_bucket" "models" {
  name                        = "${var.project_id}-models"
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"

  soft_delete_policy {
    retention_duration_seconds = 604800
  }
}

# Document blobs (storage.backend=gcs) and index snapshots.
resource "google_storage_bucket" "data" {
  name                        = "${var.project_id}-groundwork-data"
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"

  versioning {
    enabled = true
  }
}
