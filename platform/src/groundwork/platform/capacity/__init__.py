"""Accelerator capacity through GKE's Dynamic Workload Scheduler: ProvisioningRequests
(`autoscaling.x-k8s.io/v1`, class `queued-provisioning.gke.io`) created, read and deleted through the
Kubernetes API with the `kubernetes` client (`client`), their conditions summarised (`types`), and the
decision to ask for capacity only when work is waiting (`plan`)."""
