resource "google_container_cluster" "groundwork" {
  name     = var.cluster_name
  location = var.region
  # accelerator pools live in one zone where the accelerator is offered; the CPU pool spreads over the region
  remove_default_node_pool = true
  initial_node_count       = 1
  deletion_protection      = var.deletion_protection

  release_channel {
    channel = "REGULAR"
  }

  workload_identity_config {
    workload_pool = "${var.project_id}.svc.id.goog"
  }

  monitoring_config {
    enable_components = ["SYSTEM_COMPONENTS"]
    managed_prometheus {
      enabled = true # PodMonitoring + Rules for vLLM's metrics (the HPA reads them)
    }
  }

  addons_config {
    gcp_filestore_csi_driver_config {
      enabled = true # ReadWriteMany volume for the shared index directory (storage class standard-rwx)
    }
    http_load_balancing {
      disabled = false
    }
  }
}

resource "google_container_node_pool" "system" {
  name     = "system"
  cluster  = google_container_cluster.groundwork.id
  location = var.region

  autoscaling {
    total_min_node_count = 1
    total_max_node_count = 12
  }

  node_config {
    machine_type    = "n2-standard-16" # API, workers (embedding on CPU), Redis, PostgreSQL
    service_account = google_service_account.nodes.email
    oauth_scopes    = ["https://www.googleapis.com/auth/cloud-platform"]
    workload_metadata_config {
      mode = "GKE_METADATA"
    }
  }
}
