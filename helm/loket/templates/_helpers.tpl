{{/* Release-scoped name: <release>-loket, or fullnameOverride. */}}
{{- define "loket.fullname" -}}
{{- if .Values.fullnameOverride -}}{{ .Values.fullnameOverride | trunc 50 | trimSuffix "-" }}
{{- else -}}{{ printf "%s-loket" .Release.Name | trunc 50 | trimSuffix "-" }}{{- end -}}
{{- end -}}

{{- define "loket.labels" -}}
app.kubernetes.io/name: loket
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* Selector labels of one service: (dict "root" $ "name" "api"). */}}
{{- define "loket.selector" -}}
app.kubernetes.io/name: loket
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .name }}
{{- end -}}

{{- define "loket.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{- define "loket.secretName" -}}
{{ .Values.secret.existingSecret | default (printf "%s-secret" (include "loket.fullname" .)) }}
{{- end -}}

{{- define "loket.serviceAccountName" -}}
{{ if .Values.serviceAccount.create }}{{ .Values.serviceAccount.name | default (include "loket.fullname" .) }}{{ else }}{{ .Values.serviceAccount.name | default "default" }}{{ end }}
{{- end -}}

{{/* Environment shared by every container: the ConfigMap and the Secret. */}}
{{- define "loket.envFrom" -}}
- configMapRef:
    name: {{ include "loket.fullname" . }}-config
- secretRef:
    name: {{ include "loket.secretName" . }}
{{- end -}}

{{/* Restrictive container security context (non-root, read-only root, no escalation). */}}
{{- define "loket.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
readOnlyRootFilesystem: true
allowPrivilegeEscalation: false
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end -}}
