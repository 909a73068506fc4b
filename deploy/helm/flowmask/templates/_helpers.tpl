{{/* Name of the release's objects: "<release>" when it contains "flowmask", else "<release>-flowmask". */}}
{{- define "flowmask.fullname" -}}
{{- if contains "flowmask" .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-flowmask" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "flowmask.selectorLabels" -}}
app.kubernetes.io/name: flowmask
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "flowmask.labels" -}}
{{ include "flowmask.selectorLabels" . }}
app.kubernetes.io/version: {{ include "flowmask.tag" . | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "flowmask.tag" -}}
{{- default .Chart.AppVersion .Values.image.tag -}}
{{- end -}}

{{/* The image, pinned: a digest, or a tag that is not "latest". */}}
{{- define "flowmask.image" -}}
{{- $tag := include "flowmask.tag" . -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else if or (eq $tag "latest") (eq $tag "") -}}
{{- fail "image.tag: pin a version (or set image.digest), not latest" -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository $tag -}}
{{- end -}}
{{- end -}}

{{- define "flowmask.serviceAccountName" -}}
{{- default (include "flowmask.fullname" .) .Values.serviceAccount.name -}}
{{- end -}}

{{- define "flowmask.fleet" -}}
{{- if eq .Values.mode "fleet" -}}true{{- else if eq .Values.mode "sidecar" -}}{{- else -}}{{ fail (printf "mode: %q, want fleet or sidecar" .Values.mode) }}{{- end -}}
{{- end -}}

{{- define "flowmask.graceSeconds" -}}
{{- if include "flowmask.fleet" . -}}
{{- add (int .Values.preStopSleepSeconds) (int .Values.shutdownTimeoutSeconds) 10 -}}
{{- else -}}
{{- add (int .Values.shutdownTimeoutSeconds) 20 -}}
{{- end -}}
{{- end -}}

{{/* The proxy config (config.yaml of the ConfigMap). */}}
{{- define "flowmask.config" -}}
{{- $fleet := include "flowmask.fleet" . -}}
listen: {{ ternary "0.0.0.0" "127.0.0.1" (eq $fleet "true") }}:{{ .Values.ports.http }}
admin: 0.0.0.0:{{ .Values.ports.admin }}
log_level: {{ .Values.logLevel }}
{{- if $fleet }}
auth:
  tokens_file: /var/run/secrets/flowmask/tokens/{{ .Values.auth.secretKey }}
  header: {{ .Values.auth.header }}
{{- end }}
{{- $limits := deepCopy (default dict .Values.limits) }}
{{- if hasKey $limits "shutdown_timeout" }}{{ fail "limits.shutdown_timeout: set shutdownTimeoutSeconds instead (the grace period is computed from it)" }}{{ end }}
{{- $_ := set $limits "shutdown_timeout" (printf "%ds" (int .Values.shutdownTimeoutSeconds)) }}
limits:
  {{- toYaml $limits | nindent 2 }}
{{- $secrets := deepCopy (default dict .Values.secrets) }}
{{- if .Values.knownSecrets.existingSecret }}
{{- $_ := set $secrets "dirs" (append (default list $secrets.dirs) "/var/run/secrets/flowmask/known") }}
{{- end }}
{{- with $secrets }}
secrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
routes:
  {{- required "routes: at least one route is required" .Values.routes | toYaml | nindent 2 }}
{{- with .Values.extraConfig }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* The flowmask container. */}}
{{- define "flowmask.container" -}}
- name: flowmask
  image: {{ include "flowmask.image" . }}
  imagePullPolicy: {{ .Values.image.pullPolicy }}
  {{- if not (include "flowmask.fleet" .) }}
  restartPolicy: Always
  {{- end }}
  args: ["proxy", "--config", "/etc/flowmask/config.yaml"]
  ports:
    - name: http
      containerPort: {{ .Values.ports.http }}
      protocol: TCP
    - name: admin
      containerPort: {{ .Values.ports.admin }}
      protocol: TCP
  {{- with .Values.goMemLimit }}
  env:
    - name: GOMEMLIMIT
      value: {{ . | quote }}
  {{- end }}
  startupProbe:
    httpGet: {path: /healthz, port: admin}
    periodSeconds: 2
    failureThreshold: 30
  livenessProbe:
    httpGet: {path: /healthz, port: admin}
    periodSeconds: 10
    timeoutSeconds: 2
    failureThreshold: 3
  readinessProbe:
    httpGet: {path: /readyz, port: admin}
    periodSeconds: 5
    timeoutSeconds: 2
    failureThreshold: 2
  {{- if and (include "flowmask.fleet" .) (gt (int .Values.preStopSleepSeconds) 0) }}
  lifecycle:
    preStop:
      sleep:
        seconds: {{ .Values.preStopSleepSeconds }}
  {{- end }}
  resources:
    {{- toYaml .Values.resources | nindent 4 }}
  securityContext:
    runAsNonRoot: true
    runAsUser: 65532
    runAsGroup: 65532
    readOnlyRootFilesystem: true
    allowPrivilegeEscalation: false
    capabilities:
      drop: ["ALL"]
    seccompProfile:
      type: RuntimeDefault
  volumeMounts:
    - name: flowmask-config
      mountPath: /etc/flowmask
      readOnly: true
    {{- if include "flowmask.fleet" . }}
    - name: inbound-tokens
      mountPath: /var/run/secrets/flowmask/tokens
      readOnly: true
    {{- end }}
    {{- if .Values.knownSecrets.existingSecret }}
    - name: known-secrets
      mountPath: /var/run/secrets/flowmask/known
      readOnly: true
    {{- end }}
{{- end -}}

{{/* The flowmask container's volumes. */}}
{{- define "flowmask.volumes" -}}
- name: flowmask-config
  configMap:
    name: {{ include "flowmask.fullname" . }}
{{- if include "flowmask.fleet" . }}
- name: inbound-tokens
  secret:
    secretName: {{ required "auth.existingSecret is required in fleet mode" .Values.auth.existingSecret }}
    defaultMode: 0440
    items:
      - {key: {{ .Values.auth.secretKey }}, path: {{ .Values.auth.secretKey }}}
{{- end }}
{{- with .Values.knownSecrets.existingSecret }}
- name: known-secrets
  secret:
    secretName: {{ . }}
    defaultMode: 0440
{{- end }}
{{- end -}}

{{/* Pod template metadata shared by both modes. */}}
{{- define "flowmask.podMetadata" -}}
labels:
  {{- include "flowmask.selectorLabels" . | nindent 2 }}
  {{- if .Values.workloadIdentity.enabled }}
  azure.workload.identity/use: "true"
  {{- end }}
  {{- with .Values.podLabels }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
annotations:
  checksum/config: {{ include "flowmask.config" . | sha256sum }}
  {{- with .Values.podAnnotations }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- end -}}
