locals {
  workload_pool = "${var.project_id}.svc.id.goog"
  platform_ksa  = "${var.release}-groundwork"
  inference_ksa = "${var.release}-groundwork-inference"
}

resource "google_service_account" "nodes" {
  account_id   = "groundwork-nodes"
  display_name = "Groundwork GKE nodes (logging and metrics only)"
}

resource "google_project_iam_member" "nodes" {
  for_each = toset(["roles/logging.logWriter", "roles/monitoring.metricWriter", "roles/artifactregistry.reader"])
  project  = var.project_id
  role     = each.value
  member   = "serviceAccount:${google_service_account.nodes.email}"
}

# API and workers: read and write document blobs, read models and the registry.
resource "google_service_account" "platform" {
  account_id   = "groundwork-platform"
  display_name = "Groundwork API and ingestion workers"
}

# vLLM: read model weights (runai_streamer streams them from the bucket).
resource "google_service_account" "inference" {
  account_id   = "groundwork-inference"
  display_name = "Groundwork vLLM inference"
}

resource "google_storage_bucket_iam_member" "platform_data" {
  bucket = google_storage_bucket.data.name
  role   = "roles/storage.objectAdmin"
  member = "serviceAccount:${google_service_account.platform.email}"
}

resource "google_storage_bucket_iam_member" "platform_models" {
  bucket = google_storage_bucket.models.name
  role   = "roles/storage.objectViewer"
  member = "serviceAccount:${google_service_account.platform.email}"
}

resource "google_storage_bucket_iam_member" "inference_models" {
  bucket = google_storage_bucket.models.name
  role   = "roles/storage.objectViewer"
  member = "serviceAccount:${google_service_account.inference.email}"
}

# Workload Identity: the chart's Kubernetes service accounts may act as these Google service accounts.
resource "google_service_account_iam_member" "platform_workload_identity" {
  service_account_id = google_service_account.platform.name
  role               = "roles/iam.workloadIdentityUser"
  member             = "serviceAccount:${local.workload_pool}[${var.namespace}/${local.platform_ksa}]"
}

resource "google_service_account_iam_member" "inference_workload_identity" {
  service_account_id = google_service_account.inference.name
  role               = "roles/iam.workloadIdentityUser"
  member             = "serviceAccount:${local.workload_pool}[${var.namespace}/${local.inference_ksa}]"
}

# The Custom Metrics Stackdriver Adapter (deployed per docs/deploy-gke.md) reads vLLM's metrics for the HPA.
resource "google_project_iam_member" "metrics_adapter" {
  project = var.project_id
  role    = "roles/monitoring.viewer"
  member  = "principal://iam.googleapis.com/projects/${data.google_project.this.number}/locations/global/workloadIdentityPools/${local.workload_pool}/subject/ns/custom-metrics/sa/custom-metrics-stackdriver-adapter"
}

data "google_project" "this" {
  project_id = var.project_id
}
