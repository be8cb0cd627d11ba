-- Argo CD health check for every Landlord kind (hosting.landlord.dev).
-- Reads the Ready condition Landlord maintains, after checking that Landlord
-- has observed the object's latest generation.
--   Ready=True                          -> Healthy
--   Suspended=True (Account, Subscription), Locked=True (Database) -> Suspended
--   Ready=False, reason Progressing     -> Progressing
--   Ready=False, any other reason       -> Degraded (the message says why)
local hs = {}
if obj.status == nil or obj.status.conditions == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for Landlord to report status"
  return hs
end
if obj.metadata ~= nil and obj.metadata.generation ~= nil and obj.status.observedGeneration ~= nil
    and obj.status.observedGeneration < obj.metadata.generation then
  hs.status = "Progressing"
  hs.message = "Waiting for Landlord to observe generation " .. obj.metadata.generation
  return hs
end
local ready = nil
local suspended = nil
for _, c in ipairs(obj.status.conditions) do
  if c.type == "Ready" then
    ready = c
  elseif (c.type == "Suspended" or c.type == "Locked") and c.status == "True" then
    suspended = c
  end
end
if suspended ~= nil then
  hs.status = "Suspended"
  hs.message = suspended.message or suspended.reason
  return hs
end
if ready == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the Ready condition"
  return hs
end
if ready.status == "True" then
  hs.status = "Healthy"
elseif ready.status == "False" and ready.reason ~= "Progressing" then
  hs.status = "Degraded"
else
  hs.status = "Progressing"
end
hs.message = ready.message or ready.reason
return hs
