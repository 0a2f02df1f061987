terraform {
  required_version = ">= 1.6"
  required_providers {
    google = {
      source = "hashicorp/google"
      # node_config.flex_start and max_run_duration need a 6.x provider released in 2025 or later
      version = ">= 6.30, < 8.0"
    }
  }
}

provider "google" {
  project = var.project_id
  region  = var.region
}
