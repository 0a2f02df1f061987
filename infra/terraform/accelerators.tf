locals {
  dws    = var.provisioning != "onDemand"
  queued = var.provisioning == "queued"
  pools  = toset(concat([var.accelerator], var.additional_accelerator_pools))
}

# A3: NVIDIA H100/H200. Flex-start nodes come from the Dynamic Workload Scheduler when pods wait for them; with
# queued provisioning only a ProvisioningRequest can bring nodes (all of a request's nodes at once).
resource "google_container_node_pool" "gpu" {
  count          = contains(local.pools, "gpu") ? 1 : 0
  name           = var.gpu.node_pool
  cluster        = google_container_cluster.groundwork.id
  location       = var.region
  node_locations = [var.zone]

  initial_node_count = 0
  autoscaling {
    total_min_node_count = 0
    total_max_node_count = var.max_accelerator_nodes
    location_policy      = "ANY"
  }

  dynamic "queued_provisioning" {
    for_each = local.queued ? [1] : []
    content {
      enabled = true
    }
  }

  management {
    auto_repair  = !local.queued # queued-provisioning pools require auto-repair off
    auto_upgrade = true
  }

  node_config {
    machine_type     = var.gpu.machine_type
    flex_start       = local.dws
    max_run_duration = local.dws ? "${var.max_run_duration_seconds}s" : null
    service_account  = google_service_account.nodes.email
    oauth_scopes     = ["https://www.googleapis.com/auth/cloud-platform"]
    labels = {
      "groundwork.dev/accelerator" = "gpu"
    }

    guest_accelerator {
      type  = var.gpu.type
      count = var.gpu.count
      gpu_driver_installation_config {
        gpu_driver_version = "LATEST"
      }
    }

    reservation_affinity {
      consume_reservation_type = local.dws ? "NO_RESERVATION" : "ANY_RESERVATION"
    }

    workload_metadata_config {
      mode = "GKE_METADATA"
    }
  }
}

# TPU v6e (Trillium), one single-host slice per node (ct6e-standard-8t: 8 chips, topology 2x4).
resource "google_container_node_pool" "tpu" {
  count          = contains(local.pools, "tpu") ? 1 : 0
  name           = var.tpu.node_pool
  cluster        = google_container_cluster.groundwork.id
  location       = var.region
  node_locations = [var.zone]

  initial_node_count = 0
  autoscaling {
    total_min_node_count = 0
    total_max_node_count = var.max_accelerator_nodes
    location_policy      = "ANY"
  }

  dynamic "queued_provisioning" {
    for_each = local.queued ? [1] : []
    content {
      enabled = true
    }
  }

  management {
    auto_repair  = !local.queued
    auto_upgrade = true
  }

  node_config {
    machine_type     = var.tpu.machine_type
    flex_start       = local.dws
    max_run_duration = local.dws ? "${var.max_run_duration_seconds}s" : null
    service_account  = google_service_account.nodes.email
    oauth_scopes     = ["https://www.googleapis.com/auth/cloud-platform"]
    labels = {
      "groundwork.dev/accelerator" = "tpu"
    }

    reservation_affinity {
      consume_reservation_type = local.dws ? "NO_RESERVATION" : "ANY_RESERVATION"
    }

    workload_metadata_config {
      mode = "GKE_METADATA"
    }
  }
}
