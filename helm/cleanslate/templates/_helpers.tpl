{{/* Names and labels. */}}
{{- define "cleanslate.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "cleanslate.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "cleanslate.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "cleanslate.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "cleanslate.selectorLabels" -}}
app.kubernetes.io/name: {{ include "cleanslate.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end -}}

{{- define "cleanslate.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "cleanslate.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: cleanslate
{{- end -}}

{{- define "cleanslate.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/*
The operator instances, as JSON {"items": [...]}: one per shard, or a single one.
Each item: name (Deployment), shard (label value), namespaces (empty = all),
selector (KEY=VALUE or ""), peering (peering object name).
*/}}
{{- define "cleanslate.instances" -}}
{{- $fullname := include "cleanslate.fullname" . -}}
{{- $peering := default $fullname .Values.peering.name -}}
{{- $watch := .Values.watchNamespaces | default list -}}
{{- $items := list -}}
{{- if .Values.shards -}}
{{- range $shard := .Values.shards -}}
{{- $namespaces := $shard.namespaces | default $watch -}}
{{- $item := dict "name" (printf "%s-%s" $fullname $shard.name | trunc 63 | trimSuffix "-") "shard" $shard.name "namespaces" $namespaces "selector" ($shard.selector | default "") "peering" (printf "%s-%s" $peering $shard.name) -}}
{{- $items = append $items $item -}}
{{- end -}}
{{- else -}}
{{- $items = append $items (dict "name" $fullname "shard" "default" "namespaces" $watch "selector" (.Values.selector | default "") "peering" $peering) -}}
{{- end -}}
{{- toJson (dict "items" $items) -}}
{{- end -}}

{{/*
Refuse configurations in which two operator processes could reconcile one account:
several replicas without peering, shards outside watchNamespaces, and shards whose
scopes overlap. Two scopes are disjoint when their namespace lists do not intersect,
or when both selectors are KEY=VALUE on the same key with different values; anything
else the chart cannot prove disjoint, so it fails.
*/}}
{{- define "cleanslate.validate" -}}
{{- if and (gt (int .Values.replicaCount) 1) (not .Values.peering.enabled) -}}
{{- fail "replicaCount > 1 needs peering.enabled: without kopf peering every replica reconciles every account" -}}
{{- end -}}
{{- $items := (include "cleanslate.instances" . | fromJson).items -}}
{{- $seen := dict -}}
{{- range $item := $items -}}
{{- if not (regexMatch `^[a-z0-9]([-a-z0-9]*[a-z0-9])?$` $item.shard) -}}
{{- fail (printf "shard name %q must be a DNS label (lower-case letters, digits, '-')" $item.shard) -}}
{{- end -}}
{{- if hasKey $seen $item.shard -}}
{{- fail (printf "shard name %q is used twice" $item.shard) -}}
{{- end -}}
{{- $_ := set $seen $item.shard true -}}
{{- if and $item.selector (not (regexMatch `^[A-Za-z0-9./_-]+=[A-Za-z0-9._-]*$` $item.selector)) -}}
{{- fail (printf "selector %q of shard %q must be KEY=VALUE" $item.selector $item.shard) -}}
{{- end -}}
{{- if $.Values.watchNamespaces -}}
{{- range $ns := $item.namespaces -}}
{{- if not (has $ns $.Values.watchNamespaces) -}}
{{- fail (printf "shard %q serves namespace %q, which is not in watchNamespaces (it would have no RBAC there)" $item.shard $ns) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- range $i, $a := $items -}}
{{- range $j, $b := $items -}}
{{- if lt $i $j -}}
{{- $overlap := false -}}
{{- if or (empty $a.namespaces) (empty $b.namespaces) -}}
{{- $overlap = true -}}
{{- else -}}
{{- range $ns := $a.namespaces -}}
{{- if has $ns $b.namespaces -}}
{{- $overlap = true -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- if $overlap -}}
{{- $disjoint := false -}}
{{- if and $a.selector $b.selector -}}
{{- $ka := regexReplaceAll `=.*$` $a.selector "" -}}
{{- $kb := regexReplaceAll `=.*$` $b.selector "" -}}
{{- if and (eq $ka $kb) (ne $a.selector $b.selector) -}}
{{- $disjoint = true -}}
{{- end -}}
{{- end -}}
{{- if not $disjoint -}}
{{- fail (printf "shards %q and %q could reconcile the same accounts: give them disjoint namespaces, or selectors on the same label key with different values (e.g. cleanslate.dev/shard=a and cleanslate.dev/shard=b)" $a.shard $b.shard) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
RBAC rules. Context: dict "root" . "namespaced" bool. docs/install.md explains each rule.
*/}}
{{- define "cleanslate.rbacRules" -}}
{{- $root := .root -}}
{{- $items := (include "cleanslate.instances" $root | fromJson).items -}}
{{- $clusterPeering := false -}}
{{- $namespacedPeering := false -}}
{{- range $items -}}
{{- if .namespaces -}}{{- $namespacedPeering = true -}}{{- else -}}{{- $clusterPeering = true -}}{{- end -}}
{{- end -}}
# The accounts: watched to run cycles; patched for kopf's finalizer and its
# progress annotations (cleanslate never writes the spec).
- apiGroups: [cleanslate.dev]
  resources: [tradingaccounts]
  verbs: [get, list, watch, patch]
# The accounts' status subresource: state, conditions, positions, failures.
- apiGroups: [cleanslate.dev]
  resources: [tradingaccounts/status]
  verbs: [patch]
# Policies are only read (kopf's index lists and watches them): a change re-runs the
# accounts that reference them.
- apiGroups: [cleanslate.dev]
  resources: [purgepolicies]
  verbs: [list, watch]
# The policies' own status: Ready, or the first field the operator refuses.
- apiGroups: [cleanslate.dev]
  resources: [purgepolicies/status]
  verbs: [patch]
# Events (PurgeFailed, SymbolFrozen, AccountClean, ...) on the accounts.
- apiGroups: [""]
  resources: [events]
  verbs: [create]
{{- if and $root.Values.rbac.readSecrets (or .namespaced (and $root.Values.rbac.secretsClusterWide (not $root.Values.rbac.secretNamespaces))) }}
# The API key of a live account (spec.exchange.credentialsSecretRef), read by
# name only: no list or watch, so the operator cannot enumerate Secrets.
- apiGroups: [""]
  resources: [secrets]
  verbs: [get]
{{- end }}
{{- if and $root.Values.peering.enabled $clusterPeering (not .namespaced) }}
# kopf peering (HA) of cluster-wide operators: keep-alives in a ClusterKopfPeering.
- apiGroups: [kopf.dev]
  resources: [clusterkopfpeerings]
  verbs: [list, watch, patch]
{{- end }}
{{- if and $root.Values.peering.enabled (or $namespacedPeering .namespaced) }}
# kopf peering (HA) of namespaced operators: keep-alives in a KopfPeering per namespace.
- apiGroups: [kopf.dev]
  resources: [kopfpeerings]
  verbs: [list, watch, patch]
{{- end }}
{{- if and $root.Values.rbac.watchCustomResourceDefinitions (not .namespaced) }}
# kopf notices CRD upgrades at runtime; without this it only scans at startup.
- apiGroups: [apiextensions.k8s.io]
  resources: [customresourcedefinitions]
  verbs: [list, watch]
{{- end }}
{{- end -}}
