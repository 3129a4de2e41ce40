{{/* the prefix of every name; short enough for the longest suffix within 63 characters */}}
{{- define "dranspose.fullname" -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- end }}

{{- define "dranspose.pipeline" -}}
{{- .Values.pipeline | default .Release.Name -}}
{{- end }}

{{- define "dranspose.selectorLabels" -}}
app.kubernetes.io/name: dranspose
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* labels of every object; call with (dict "root" $ "component" "controller") */}}
{{- define "dranspose.labels" -}}
{{ include "dranspose.selectorLabels" . }}
app.kubernetes.io/part-of: {{ include "dranspose.pipeline" .root }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version }}
{{- end }}

{{/* a pod template's metadata; call with (dict "root" $ "component" "worker") */}}
{{- define "dranspose.podMetadata" -}}
labels:
  {{- include "dranspose.selectorLabels" . | nindent 2 }}
{{- with .root.Values.podAnnotations }}
annotations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{- define "dranspose.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end }}

{{- define "dranspose.scienceImage" -}}
{{- .Values.science_image | default (include "dranspose.image" .) -}}
{{- end }}

{{- define "dranspose.redisUrl" -}}
{{- if .Values.redis.enabled -}}
{{- printf "redis://%s-redis:6379/0" (include "dranspose.fullname" .) -}}
{{- else -}}
{{- required "redis.url is needed when redis.enabled is false" .Values.redis.url -}}
{{- end -}}
{{- end }}

{{/* what every part is started with: its Redis and pipeline, as `dranspose run` passes them */}}
{{- define "dranspose.env" -}}
- name: DRANSPOSE_REDIS_URL
  value: {{ include "dranspose.redisUrl" . | quote }}
- name: DRANSPOSE_PIPELINE
  value: {{ include "dranspose.pipeline" . | quote }}
- name: LOG_LEVEL
  value: {{ .Values.log_level | quote }}
{{- with .Values.cors_origins }}
- name: DRANSPOSE_CORS_ORIGINS
  value: {{ join "," . | quote }}
{{- end }}
{{- if .Values.token }}
- name: DRANSPOSE_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ include "dranspose.fullname" . }}-token
      key: token
{{- end }}
{{- end }}

{{/* pod-level settings every part shares */}}
{{- define "dranspose.podSpec" -}}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.podSecurityContext }}
securityContext:
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
{{- end }}

{{/* container-level settings; call with (dict "root" $ "resources" .Values.reducer.resources) */}}
{{- define "dranspose.container" -}}
imagePullPolicy: {{ .root.Values.image.pullPolicy }}
{{- with .root.Values.securityContext }}
securityContext:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with (.resources | default .root.Values.resources) }}
resources:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/* the protocol of a stream: `protocol`, or the one of the original's `ingester_class` */}}
{{- define "dranspose.protocol" -}}
{{- $classes := dict
  "ZmqPullSingleIngester" "stins"
  "ZmqPullEigerLegacyIngester" "eiger-legacy"
  "ZmqSubXspressIngester" "xspress3" "StreamingXspressIngester" "xspress3"
  "ZmqSubContrastIngester" "contrast" "StreamingContrastIngester" "contrast"
  "ZmqSubPCAPIngester" "pcap"
  "TcpPcapIngester" "positioncap"
  "ZmqSubAlbaemIngester" "albaem"
  "ZmqSubLecroyIngester" "lecroy"
  "HttpSardanaIngester" "sardana" -}}
{{- if .protocol -}}
{{- .protocol -}}
{{- else if .ingester_class -}}
{{- $class := .ingester_class | splitList ":" | last | splitList "." | last -}}
{{- get $classes $class | required (printf "ingester_class %s: no such ingester here; give protocol: instead" .ingester_class) -}}
{{- else -}}
{{- fail (printf "stream %s: give protocol: or ingester_class:" .name) -}}
{{- end -}}
{{- end }}

{{/* the streams of an ingester entry: its `streams`, or the one named by `stream` or its key */}}
{{- define "dranspose.streams" -}}
{{- $streams := list -}}
{{- if .config.streams -}}
{{- $streams = .config.streams -}}
{{- else -}}
{{- $streams = list (dict "name" (.config.stream | default .key) "connect_url" .config.connect_url "protocol" .config.protocol "ingester_class" .config.ingester_class) -}}
{{- end -}}
{{- toJson $streams -}}
{{- end }}
