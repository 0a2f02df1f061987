output "helm_values" {
  description = "Values for infra/helm/groundwork that come from this configuration (helm --values)."
  value = yamlencode({
    accelerator = var.accelerator
    gcp = {
      projectId               = var.project_id
      platformServiceAccount  = google_service_account.platform.email
      inferenceServiceAccount = google_service_account.inference.email
    }
    inference = { provisioning = var.provisioning }
    capacity  = { maxRunDurationSeconds = var.max_run_duration_seconds }
    storage = {
      bucket        = google_storage_bucket.data.name
      modelRegistry = "gs://${google_storage_bucket.models.name}/registry"
    }
  })
}

output "models_bucket" {
  value = "gs://${google_storage_bucket.models.name}"
}

output "get_credentials" {
  value = "gcloud container clusters get-credentials ${google_container_cluster.groundwork.name} --region ${var.region} --project ${var.project_id}"
}
