{{- define "groundwork.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "groundwork.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/part-of: groundwork
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* selector labels of one component: (dict "root" $ "component" "api") */}}
{{- define "groundwork.selector" -}}
app.kubernetes.io/name: {{ .component }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- end -}}

{{/* the accelerator profile chosen by .Values.accelerator */}}
{{- define "groundwork.accel" -}}
{{- $profile := index .Values.accelerators .Values.accelerator -}}
{{- if not $profile -}}{{- fail (printf "accelerator %q has no profile under accelerators" .Values.accelerator) -}}{{- end -}}
{{- toYaml $profile -}}
{{- end -}}

{{- define "groundwork.platformServiceAccount" -}}{{ include "groundwork.fullname" . }}{{- end -}}
{{- define "groundwork.inferenceServiceAccount" -}}{{ include "groundwork.fullname" . }}-inference{{- end -}}
{{- define "groundwork.vllmName" -}}{{ include "groundwork.fullname" . }}-vllm{{- end -}}
{{- define "groundwork.capacityTemplate" -}}{{ include "groundwork.fullname" . }}-vllm-capacity{{- end -}}

{{/* Where vLLM pods may run: node pool, accelerator selectors, DWS selectors and tolerations. Shared by the
     Deployment and the PodTemplate a ProvisioningRequest references, which must agree. */}}
{{- define "groundwork.vllmScheduling" -}}
{{- $a := include "groundwork.accel" . | fromYaml -}}
nodeSelector:
  cloud.google.com/gke-nodepool: {{ $a.nodePool }}
  {{- range $k, $v := $a.nodeSelector }}
  {{ $k }}: {{ $v | quote }}
  {{- end }}
  {{- if ne .Values.inference.provisioning "onDemand" }}
  cloud.google.com/gke-flex-start: "true"
  {{- end }}
tolerations:
  {{- toYaml $a.tolerations | nindent 2 }}
  {{- if eq .Values.inference.provisioning "queued" }}
  - {key: cloud.google.com/gke-queued, operator: Equal, value: "true", effect: NoSchedule}
  {{- end }}
{{- end -}}

{{- define "groundwork.vllmResources" -}}
{{- $a := include "groundwork.accel" . | fromYaml -}}
requests:
  cpu: {{ $a.cpu | quote }}
  memory: {{ $a.memory }}
  {{ $a.resourceName }}: {{ $a.count | quote }}
limits:
  memory: {{ $a.memory }}
  {{ $a.resourceName }}: {{ $a.count | quote }}
{{- end -}}

{{/* Environment of the platform processes (API, workers): the scale-out mode on GCP. */}}
{{- define "groundwork.platformEnv" -}}
- name: POSTGRES_PASSWORD
  valueFrom:
    secretKeyRef: {name: {{ .Values.postgresql.existingSecret }}, key: password}
- name: GROUNDWORK_DATABASE__URL
  {{- $pg := ternary (printf "%s-postgresql" (include "groundwork.fullname" .)) .Values.postgresql.host (eq .Values.postgresql.mode "internal") }}
  value: {{ printf "postgresql+psycopg://%s:$(POSTGRES_PASSWORD)@%s:5432/%s" .Values.postgresql.user $pg .Values.postgresql.database | quote }}
{{- end -}}
