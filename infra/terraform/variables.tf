variable "project_id" {
  description = "Google Cloud project that holds everything."
  type        = string
}

variable "region" {
  description = "Region of the cluster control plane and the buckets."
  type        = string
  default     = "us-central1"
}

variable "zone" {
  description = "Zone of the accelerator node pools (where the chosen GPU or TPU type is offered)."
  type        = string
  default     = "us-central1-b"
}

variable "cluster_name" {
  type    = string
  default = "groundwork"
}

variable "namespace" {
  description = "Kubernetes namespace of the Helm release (Workload Identity bindings name it)."
  type        = string
  default     = "groundwork"
}

variable "release" {
  description = "Helm release name; the chart names its service accounts <release>-groundwork and <release>-groundwork-inference."
  type        = string
  default     = "gw"
}

variable "accelerator" {
  description = "gpu or tpu: which accelerator node pool exists (the chart's `accelerator` value must match)."
  type        = string
  default     = "gpu"
  validation {
    condition     = contains(["gpu", "tpu"], var.accelerator)
    error_message = "accelerator must be gpu or tpu."
  }
}

variable "additional_accelerator_pools" {
  description = "Accelerator pools kept besides `accelerator`'s, e.g. [\"gpu\"] while moving a deployment from GPU to TPU."
  type        = list(string)
  default     = []
}

variable "provisioning" {
  description = "onDemand, flexStart (DWS flex-start nodes) or queued (DWS queued provisioning, ProvisioningRequests)."
  type        = string
  default     = "flexStart"
  validation {
    condition     = contains(["onDemand", "flexStart", "queued"], var.provisioning)
    error_message = "provisioning must be onDemand, flexStart or queued."
  }
}

variable "gpu" {
  description = "The A3 node pool: machine type, accelerator type and count per node (chart: accelerators.gpu)."
  type = object({
    node_pool    = string
    machine_type = string
    type         = string
    count        = number
  })
  default = {
    node_pool    = "gpu-a3"
    machine_type = "a3-highgpu-1g"
    type         = "nvidia-h100-80gb"
    count        = 1
  }
}

variable "tpu" {
  description = "The TPU v6e (Trillium) node pool: a single-host slice (chart: accelerators.tpu)."
  type = object({
    node_pool    = string
    machine_type = string
    topology     = string
  })
  default = {
    node_pool    = "tpu-v6e"
    machine_type = "ct6e-standard-8t"
    topology     = "2x4"
  }
}

variable "max_accelerator_nodes" {
  description = "Upper bound of accelerator nodes (the HPA's maxReplicas, or a ProvisioningRequest's count)."
  type        = number
  default     = 4
}

variable "max_run_duration_seconds" {
  description = "How long a flex-start or queued node lives (DWS allows up to 7 days)."
  type        = number
  default     = 604800
}

variable "deletion_protection" {
  type    = bool
  default = true
}
