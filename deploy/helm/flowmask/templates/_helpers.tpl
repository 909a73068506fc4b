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

{{/* The mode, checked: fleet, sidecar or kafka; anything else fails the render. */}}
{{- define "flowmask.mode" -}}
{{- if has .Values.mode (list "fleet" "sidecar" "kafka") -}}{{ .Values.mode }}{{- else -}}{{ fail (printf "mode: %q, want fleet, sidecar or kafka" .Values.mode) }}{{- end -}}
{{- end -}}

{{/* "true" in fleet mode, else empty (as are the two below for theirs). */}}
{{- define "flowmask.fleet" -}}
{{- if eq (include "flowmask.mode" .) "fleet" -}}true{{- end -}}
{{- end -}}

{{- define "flowmask.sidecar" -}}
{{- if eq (include "flowmask.mode" .) "sidecar" -}}true{{- end -}}
{{- end -}}

{{- define "flowmask.kafka" -}}
{{- if eq (include "flowmask.mode" .) "kafka" -}}true{{- end -}}
{{- end -}}

{{/* "true" when the release runs a Deployment (fleet and kafka modes). */}}
{{- define "flowmask.deployment" -}}
{{- if or (include "flowmask.fleet" .) (include "flowmask.kafka" .) -}}true{{- end -}}
{{- end -}}

{{/* Kafka mode: the replica bounds, checked against kafka.partitions (a
consumer group never gives one partition to two members, so replicas beyond
the partition count sit idle). Renders nothing. */}}
{{- define "flowmask.kafkaReplicas" -}}
{{- if include "flowmask.kafka" . -}}
{{- $p := int (required "kafka.partitions is required in kafka mode (the input topic's partition count bounds the replicas)" .Values.kafka.partitions) -}}
{{- if lt $p 1 -}}{{ fail (printf "kafka.partitions: %d, want at least 1" $p) }}{{- end -}}
{{- if gt (int .Values.replicaCount) $p -}}
{{- fail (printf "replicaCount %d exceeds kafka.partitions %d: the extra consumers would sit idle" (int .Values.replicaCount) $p) -}}
{{- end -}}
{{- if and .Values.autoscaling.enabled (gt (int .Values.autoscaling.maxReplicas) $p) -}}
{{- fail (printf "autoscaling.maxReplicas %d exceeds kafka.partitions %d: the extra consumers would sit idle" (int .Values.autoscaling.maxReplicas) $p) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "flowmask.graceSeconds" -}}
{{- if include "flowmask.fleet" . -}}
{{- add (int .Values.preStopSleepSeconds) (int .Values.shutdownTimeoutSeconds) 10 -}}
{{- else if include "flowmask.kafka" . -}}
{{- add (int .Values.kafka.drainTimeout) 15 -}}
{{- else -}}
{{- add (int .Values.shutdownTimeoutSeconds) 20 -}}
{{- end -}}
{{- end -}}

{{/* Mount paths of the Kafka SASL password and CA (kafka mode). */}}
{{- define "flowmask.kafkaPasswordDir" -}}/var/run/secrets/flowmask/kafka{{- end -}}
{{- define "flowmask.kafkaCADir" -}}/etc/flowmask/kafka-ca{{- end -}}

{{/* The known-secret sources: secrets: plus the knownSecrets mount. */}}
{{- define "flowmask.secretsConfig" -}}
{{- $secrets := deepCopy (default dict .Values.secrets) }}
{{- if .Values.knownSecrets.existingSecret }}
{{- $_ := set $secrets "dirs" (append (default list $secrets.dirs) "/var/run/secrets/flowmask/known") }}
{{- end }}
{{- with $secrets }}
secrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* The kafka config (config.yaml of the ConfigMap in kafka mode): the
kafka: and secrets: sections `flowmask kafka --config` reads. No secret
value: the SASL password is a file mounted from a Secret. */}}
{{- define "flowmask.kafkaConfig" -}}
{{- $k := .Values.kafka -}}
kafka:
  brokers:
    {{- required "kafka.brokers: at least one HOST:PORT is required" $k.brokers | toYaml | nindent 4 }}
  in: {{ required "kafka.in (the input topic) is required" $k.in | quote }}
  out: {{ required "kafka.out (the output topic) is required" $k.out | quote }}
  group: {{ required "kafka.group (the consumer group ID) is required" $k.group | quote }}
  {{- with $k.deadLetter }}
  dead_letter: {{ . | quote }}
  {{- end }}
  format: {{ $k.format | quote }}
  max_record: {{ int $k.maxRecord }}
  exactly_once: {{ $k.exactlyOnce }}
  session_timeout: {{ printf "%ds" (int $k.sessionTimeout) }}
  drain_timeout: {{ printf "%ds" (int $k.drainTimeout) }}
  admin: 0.0.0.0:{{ .Values.ports.admin }}
  {{- with $k.sasl.mechanism }}
  sasl:
    mechanism: {{ . }}
    {{- if ne . "oauth" }}
    username: {{ required "kafka.sasl.username is required with a SASL mechanism other than oauth" $k.sasl.username | quote }}
    password_file: {{ include "flowmask.kafkaPasswordDir" $ }}/{{ $k.sasl.secretKey }}
    {{- end }}
  {{- end }}
  {{- if or (not (kindIs "invalid" $k.tls.enabled)) $k.tls.caConfigMap }}
  tls:
    {{- if not (kindIs "invalid" $k.tls.enabled) }}
    enabled: {{ $k.tls.enabled }}
    {{- end }}
    {{- if $k.tls.caConfigMap }}
    ca: {{ include "flowmask.kafkaCADir" . }}/{{ $k.tls.caKey }}
    {{- end }}
  {{- end }}
{{- include "flowmask.secretsConfig" . }}
{{- end -}}

{{/* The config.yaml of the ConfigMap, for the mode. */}}
{{- define "flowmask.configFile" -}}
{{- if include "flowmask.kafka" . -}}
{{- include "flowmask.kafkaConfig" . -}}
{{- else -}}
{{- include "flowmask.config" . -}}
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
{{- include "flowmask.secretsConfig" . }}
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
  {{- if include "flowmask.sidecar" . }}
  restartPolicy: Always
  {{- end }}
  args: [{{ ternary "kafka" "proxy" (eq (include "flowmask.kafka" .) "true") | quote }}, "--config", "/etc/flowmask/config.yaml"]
  ports:
    {{- if not (include "flowmask.kafka" .) }}
    - name: http
      containerPort: {{ .Values.ports.http }}
      protocol: TCP
    {{- end }}
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
    {{- if include "flowmask.kafkaPassword" . }}
    - name: kafka-sasl
      mountPath: {{ include "flowmask.kafkaPasswordDir" . }}
      readOnly: true
    {{- end }}
    {{- if and (include "flowmask.kafka" .) .Values.kafka.tls.caConfigMap }}
    - name: kafka-ca
      mountPath: {{ include "flowmask.kafkaCADir" . }}
      readOnly: true
    {{- end }}
{{- end -}}

{{/* "true" in kafka mode with a SASL mechanism that takes a password. */}}
{{- define "flowmask.kafkaPassword" -}}
{{- if and (include "flowmask.kafka" .) .Values.kafka.sasl.mechanism (ne .Values.kafka.sasl.mechanism "oauth") -}}true{{- end -}}
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
{{- if include "flowmask.kafkaPassword" . }}
- name: kafka-sasl
  secret:
    secretName: {{ required "kafka.sasl.existingSecret is required with a SASL mechanism other than oauth (the Secret holding the password; the chart never holds it)" .Values.kafka.sasl.existingSecret }}
    defaultMode: 0440
    items:
      - {key: {{ .Values.kafka.sasl.secretKey }}, path: {{ .Values.kafka.sasl.secretKey }}}
{{- end }}
{{- if and (include "flowmask.kafka" .) .Values.kafka.tls.caConfigMap }}
- name: kafka-ca
  configMap:
    name: {{ .Values.kafka.tls.caConfigMap }}
    items:
      - {key: {{ .Values.kafka.tls.caKey }}, path: {{ .Values.kafka.tls.caKey }}}
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
  checksum/config: {{ include "flowmask.configFile" . | sha256sum }}
  {{- with .Values.podAnnotations }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- end -}}
