-- Argo CD health check for cleanslate.dev/PurgePolicy.
--
-- A PurgePolicy has no status subresource: it is configuration, and the API server
-- already rejects a policy that breaks the CRD's schema or CEL rules, so a stored
-- policy is valid as far as the server can tell. The script therefore reports
--   Progressing  while the policy is being deleted
--   Degraded     if a status condition (Ready, Valid or Accepted) is False
--                (for a future status; the operator writes none today)
--   Healthy      otherwise
-- Problems found only by the operator (e.g. a cross-field rule) are reported on the
-- TradingAccounts that reference the policy: PolicyResolved=False makes them Degraded.

local hs = {}

if obj.metadata ~= nil and obj.metadata.deletionTimestamp ~= nil then
  hs.status = "Progressing"
  hs.message = "Being deleted"
  return hs
end

local conditions = obj.status and obj.status.conditions
if conditions ~= nil then
  for _, condition in ipairs(conditions) do
    local verdict = condition.type == "Ready" or condition.type == "Valid" or condition.type == "Accepted"
    if verdict and condition.status == "False" then
      hs.status = "Degraded"
      hs.message = condition.message or condition.reason or (condition.type .. " is False")
      return hs
    end
  end
end

hs.status = "Healthy"
hs.message = "Policy accepted by the API server"
return hs
