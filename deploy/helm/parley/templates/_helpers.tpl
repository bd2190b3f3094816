{{/*
Shared definitions of the Parley chart: names, the process list, and the env, volume and security
blocks every pod takes from here (defined once, included by each workload).
*/}}

{{/* The release's name prefix of every object. */}}
{{- define "parley.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* The service processes in runtime.settings order (SERVICE_NAMES, then the projector): a
process's index is its offset from grpcBasePort. */}}
{{- define "parley.processes" -}}
ingest store messaging gateway auth projector
{{- end -}}

{{/* The gRPC port of process `.process`: grpcBasePort plus its index (Settings.service_port). */}}
{{- define "parley.port" -}}
{{- $index := 0 -}}
{{- range $i, $name := splitList " " (include "parley.processes" .root) -}}
{{- if eq $name $.process }}{{ $index = $i }}{{ end -}}
{{- end -}}
{{- add .root.Values.grpcBasePort $index -}}
{{- end -}}

{{/* PARLEY_PROCESS of `.process`: the projectors all run as projector-1 (its port), each pod a
member of the projectors' group under its own PARLEY_INSTANCE. */}}
{{- define "parley.processName" -}}
{{- ternary "projector-1" .process (eq .process "projector") -}}
{{- end -}}

{{/* The module a process runs (runtime.settings.module_of). */}}
{{- define "parley.module" -}}
{{- ternary "store.projector" .process (eq .process "projector") -}}
{{- end -}}

{{/* The headless Service of `.process`, fully qualified (the mesh certificate names it). */}}
{{- define "parley.serviceHost" -}}
{{- printf "%s-%s.%s.svc.%s" (include "parley.fullname" .root) .process .root.Release.Namespace .root.Values.clusterDomain -}}
{{- end -}}

{{- define "parley.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}

{{- define "parley.labels" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "parley.allLabels" -}}
{{ include "parley.labels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version }}
{{- end -}}

{{/* Refuse values that cannot work, before anything is installed. */}}
{{- define "parley.validate" -}}
{{- $kafka := .Values.kafka -}}
{{- if not (has $kafka.securityProtocol (list "PLAINTEXT" "SSL" "SASL_PLAINTEXT" "SASL_SSL")) -}}
{{- fail (printf "kafka.securityProtocol %q is not PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL" $kafka.securityProtocol) -}}
{{- end -}}
{{- if hasPrefix "SASL_" $kafka.securityProtocol -}}
{{- if not (has $kafka.sasl.mechanism (list "PLAIN" "SCRAM-SHA-256" "SCRAM-SHA-512")) -}}
{{- fail (printf "kafka.sasl.mechanism %q is not PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512" $kafka.sasl.mechanism) -}}
{{- end -}}
{{- if not (and $kafka.sasl.username $kafka.sasl.existingSecret) -}}
{{- fail (printf "kafka.securityProtocol %s needs kafka.sasl.username and kafka.sasl.existingSecret" $kafka.securityProtocol) -}}
{{- end -}}
{{- end -}}
{{- if and $kafka.tls.caSecret (not (has $kafka.securityProtocol (list "SSL" "SASL_SSL"))) -}}
{{- fail "kafka.tls.caSecret is set but kafka.securityProtocol is not SSL or SASL_SSL" -}}
{{- end -}}
{{- if not (or .Values.redis.clusterNodes .Values.redis.url .Values.secrets.existingSecret) -}}
{{- fail "set redis.clusterNodes, redis.url, or PARLEY_REDIS_URL in secrets.existingSecret" -}}
{{- end -}}
{{- $_ := required "meshTls.existingSecret is required: the services listen beyond loopback only with mutual TLS" .Values.meshTls.existingSecret -}}
{{- end -}}

{{/* Where the Secrets' files are mounted. */}}
{{- define "parley.meshTlsDir" -}}/etc/parley/mesh-tls{{- end -}}
{{- define "parley.kafkaCaDir" -}}/etc/parley/kafka-ca{{- end -}}

{{/* Where media is kept (the gateway stores it, Envoy's config bounds its uploads and serves no
store of its own when an S3 endpoint is given). */}}
{{- define "parley.env.media" -}}
{{- with .Values.media.s3Url }}
- name: PARLEY_MEDIA_S3_URL
  value: {{ . | quote }}
- name: PARLEY_MEDIA_BUCKET
  value: {{ $.Values.media.bucket | quote }}
- name: PARLEY_MEDIA_S3_REGION
  value: {{ $.Values.media.region | quote }}
{{- end }}
{{- with .Values.media.publicUrl }}
- name: PARLEY_MEDIA_PUBLIC_URL
  value: {{ . | quote }}
{{- end }}
{{- with .Values.media.maxBytes }}
- name: PARLEY_MEDIA_MAX_BYTES
  value: {{ . | quote }}
{{- end }}
{{- end -}}

{{/* What Envoy's config is rendered from (python -m stack.envoy_config): its ports and limits,
the mesh's TLS files, and where each process's replicas are (PARLEY_UPSTREAM_<PROCESS>). */}}
{{- define "parley.env.edge" -}}
- name: PARLEY_HTTP_HOST
  value: "0.0.0.0"
- name: PARLEY_HTTP_PORT
  value: {{ .Values.envoy.port | quote }}
- name: PARLEY_ENVOY_ADMIN_PORT
  value: {{ .Values.envoy.adminPort | quote }}
- name: PARLEY_GRPC_BASE_PORT
  value: {{ .Values.grpcBasePort | quote }}
- name: PARLEY_METRICS_PORT_OFFSET
  value: {{ .Values.metricsPortOffset | quote }}
{{- include "parley.env.media" . }}
{{- range $setting, $variable := dict "maxBodyBytes" "MAX_BODY_BYTES" "requestTimeoutS" "REQUEST_TIMEOUT_S" "ratePerToken" "RATE_PER_TOKEN" "ratePerAddress" "RATE_PER_ADDRESS" "rateWebhooks" "RATE_WEBHOOKS" }}
{{- with index $.Values.envoy.edge $setting }}
- name: PARLEY_EDGE_{{ $variable }}
  value: {{ . | quote }}
{{- end }}
{{- end }}
- name: PARLEY_MESH_TLS_CA
  value: {{ include "parley.meshTlsDir" . }}/ca.crt
- name: PARLEY_MESH_TLS_CERT
  value: {{ include "parley.meshTlsDir" . }}/tls.crt
- name: PARLEY_MESH_TLS_KEY
  value: {{ include "parley.meshTlsDir" . }}/tls.key
{{- range $process := splitList " " (include "parley.processes" .) }}
{{- $at := dict "root" $ "process" $process }}
- name: PARLEY_UPSTREAM_{{ include "parley.processName" $at | upper | replace "-" "_" }}
  value: {{ printf "%s:%s" (include "parley.serviceHost" $at) (include "parley.port" $at) | quote }}
{{- end }}
{{- end -}}

{{/* How every Kafka client connects, and the topics' settings (services and the topic Job). */}}
{{- define "parley.env.kafka" -}}
{{- $kafka := .Values.kafka -}}
- name: PARLEY_NAMESPACE
  value: {{ .Values.settings.namespace | quote }}
- name: PARLEY_KAFKA_BOOTSTRAP
  value: {{ required "kafka.bootstrap is required" $kafka.bootstrap | quote }}
- name: PARLEY_KAFKA_SECURITY_PROTOCOL
  value: {{ $kafka.securityProtocol | quote }}
{{- if hasPrefix "SASL_" $kafka.securityProtocol }}
- name: PARLEY_KAFKA_SASL_MECHANISM
  value: {{ $kafka.sasl.mechanism | quote }}
- name: PARLEY_KAFKA_SASL_USERNAME
  value: {{ $kafka.sasl.username | quote }}
- name: PARLEY_KAFKA_SASL_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $kafka.sasl.existingSecret }}
      key: {{ $kafka.sasl.passwordKey }}
{{- end }}
{{- if $kafka.tls.caSecret }}
- name: PARLEY_KAFKA_SSL_CA_FILE
  value: {{ include "parley.kafkaCaDir" . }}/{{ $kafka.tls.caKey }}
{{- end }}
- name: PARLEY_KAFKA_REPLICATION_FACTOR
  value: {{ $kafka.replicationFactor | quote }}
- name: PARLEY_KAFKA_MIN_INSYNC_REPLICAS
  value: {{ $kafka.minInsyncReplicas | quote }}
- name: PARLEY_TOPIC_PARTITIONS
  value: {{ .Values.topics.partitions | quote }}
- name: PARLEY_LOG_LEVEL
  value: {{ .Values.settings.logLevel | quote }}
{{- end -}}

{{/* Everything a service process takes: Kafka, Redis, the edge's view (for /health), and this
replica's own name and addresses. */}}
{{- define "parley.env.service" -}}
{{ include "parley.env.kafka" . }}
{{ include "parley.env.edge" . }}
{{- if .Values.redis.clusterNodes }}
- name: PARLEY_REDIS_CLUSTER_NODES
  value: {{ join "," .Values.redis.clusterNodes | quote }}
{{- else if .Values.redis.url }}
- name: PARLEY_REDIS_URL
  value: {{ .Values.redis.url | quote }}
{{- end }}
- name: PARLEY_PROJECTORS
  value: "1"
{{- with .Values.settings.publicUrl }}
- name: PARLEY_PUBLIC_URL
  value: {{ . | quote }}
{{- end }}
{{- include "parley.env.media" . }}
- name: PARLEY_BIND_HOST
  value: 0.0.0.0
- name: PARLEY_ADVERTISE_HOST
  valueFrom:
    fieldRef:
      fieldPath: status.podIP
- name: PARLEY_INSTANCE
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
{{- with .Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* The volumes of the Secrets' files, and the writable folders of a read-only root. */}}
{{- define "parley.volumes" -}}
- name: mesh-tls
  secret:
    secretName: {{ .Values.meshTls.existingSecret }}
    defaultMode: 0440
{{- if .Values.kafka.tls.caSecret }}
- name: kafka-ca
  secret:
    secretName: {{ .Values.kafka.tls.caSecret }}
    defaultMode: 0440
{{- end }}
- name: data
  emptyDir: {}
- name: tmp
  emptyDir: {}
{{- end -}}

{{- define "parley.volumeMounts" -}}
- name: mesh-tls
  mountPath: {{ include "parley.meshTlsDir" . }}
  readOnly: true
{{- if .Values.kafka.tls.caSecret }}
- name: kafka-ca
  mountPath: {{ include "parley.kafkaCaDir" . }}
  readOnly: true
{{- end }}
- name: data
  mountPath: /var/lib/parley
- name: tmp
  mountPath: /tmp
{{- end -}}

{{/* The image's user (uid 10001); the Secrets' files are readable by its group. */}}
{{- define "parley.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "parley.securityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: [ALL]
{{- end -}}

{{/* What every pod shares besides its containers. */}}
{{- define "parley.podSpec" -}}
automountServiceAccountToken: false
securityContext:
  {{- include "parley.podSecurityContext" . | nindent 2 }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* A service's probe: grpc.health.v1 Check of its own port over the mesh's mutual TLS
(stack.services.serving), as the local stack checks it. */}}
{{- define "parley.healthProbe" -}}
exec:
  command:
  - python
  - -c
  - >-
    import sys; from runtime import settings; from stack.services import serving;
    s = settings.load();
    sys.exit(0 if serving(s, f"127.0.0.1:{s.service_port(s.process)}", 2.0) else 1)
{{- end -}}
