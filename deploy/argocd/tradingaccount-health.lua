-- Argo CD health check for cleanslate.dev/TradingAccount.
--
-- Maps the kstatus-style conditions the operator writes to Argo CD's health:
--   Suspended    spec.suspend is true (the operator stops trading on purpose)
--   Progressing  no status yet, a generation not yet observed, Reconciling=True,
--                or Ready not (yet) True for a reason that is not an error
--   Degraded     Stalled=True, PolicyResolved=False, CredentialsReady=False,
--                or Ready=False with an error reason (accountState Error, or a
--                reason such as PolicyMissing, SpecInvalid, CredentialsMissing)
--   Healthy      Ready=True for the current generation
-- A Dirty account that the operator is working on is Progressing, not Degraded:
-- purging takes cycles. Persistent purge failures surface as Stalled (and alerts).
-- Written for Argo CD's Lua 5.1 (gopher-lua): no goto, no integer division.

local hs = {}

local function find_condition(conditions, condition_type)
  if conditions == nil then
    return nil
  end
  for _, condition in ipairs(conditions) do
    if condition.type == condition_type then
      return condition
    end
  end
  return nil
end

local function describe(condition, fallback)
  if condition ~= nil and condition.message ~= nil and condition.message ~= "" then
    return condition.message
  end
  if condition ~= nil and condition.reason ~= nil then
    return condition.reason
  end
  return fallback
end

local function state_suffix(status)
  if status.accountState ~= nil then
    return " (" .. status.accountState .. ")"
  end
  return ""
end

if obj.spec ~= nil and obj.spec.suspend == true then
  hs.status = "Suspended"
  hs.message = "spec.suspend is true: trading is stopped for this account"
  return hs
end

if obj.metadata ~= nil and obj.metadata.deletionTimestamp ~= nil then
  hs.status = "Progressing"
  hs.message = "Being deleted: cleanslate is cancelling its orders"
  return hs
end

local status = obj.status
if status == nil or status.conditions == nil or #status.conditions == 0 then
  hs.status = "Progressing"
  hs.message = "Waiting for cleanslate to reconcile the account"
  return hs
end

local generation = obj.metadata and obj.metadata.generation
if generation ~= nil and (status.observedGeneration == nil or status.observedGeneration < generation) then
  hs.status = "Progressing"
  hs.message = "Waiting for cleanslate to observe generation " .. tostring(generation)
  return hs
end

local conditions = status.conditions

local stalled = find_condition(conditions, "Stalled")
if stalled ~= nil and stalled.status == "True" then
  hs.status = "Degraded"
  hs.message = describe(stalled, "Stalled")
  return hs
end

local error_conditions = { "PolicyResolved", "CredentialsReady" }
for _, condition_type in ipairs(error_conditions) do
  local condition = find_condition(conditions, condition_type)
  if condition ~= nil and condition.status == "False" then
    hs.status = "Degraded"
    hs.message = describe(condition, condition_type .. " is False")
    return hs
  end
end

local reconciling = find_condition(conditions, "Reconciling")
if reconciling ~= nil and reconciling.status == "True" then
  hs.status = "Progressing"
  hs.message = describe(reconciling, "Reconciling")
  return hs
end

local ready = find_condition(conditions, "Ready")
if ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  hs.message = describe(ready, "Ready") .. state_suffix(status)
  return hs
end

-- Reasons of the operator's event vocabulary that mean "needs a person", not "busy".
local error_reasons = {
  PolicyMissing = true,
  PolicyInvalid = true,
  SpecInvalid = true,
  CredentialsMissing = true,
  ExchangeUnavailable = true,
}
if ready ~= nil and ready.status == "False"
    and (status.accountState == "Error" or error_reasons[ready.reason] == true) then
  hs.status = "Degraded"
  hs.message = describe(ready, "Ready is False") .. state_suffix(status)
  return hs
end

hs.status = "Progressing"
hs.message = describe(ready, "Waiting for Ready") .. state_suffix(status)
return hs
