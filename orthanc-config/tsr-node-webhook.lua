-- tsr-node webhook: tells the node at once when Orthanc considers a study complete.
--
-- Orthanc calls OnStableStudy(studyId, tags, metadata) when no instance has arrived for the
-- study during StableAge seconds. This script POSTs the study's Orthanc id to the node's webhook
-- with a bearer token; the node then reads the study itself (it never trusts the body for more
-- than the id). Load it with "LuaScripts" in Orthanc's configuration, and set, in the same
-- configuration:
--
--   "TsrNode" : {
--     "WebhookUrl"   : "http://127.0.0.1:8787/api/webhook/stable-study",
--     "WebhookToken" : "the node's api.token"
--   }
--
-- A POST that fails (node down) is logged by Orthanc and not repeated. Run the node's change
-- feed as well (feed.mode "both") so that no study is missed: the node recognises a study that
-- reaches it both ways and analyses it once. See docs/admin-guide.md.

local function tsrNodeSettings()
  local config = GetOrthancConfiguration()
  local settings = config['TsrNode']
  if settings == nil or settings['WebhookUrl'] == nil or settings['WebhookUrl'] == '' then
    return nil
  end
  return settings
end

function OnStableStudy(studyId, tags, metadata)
  local settings = tsrNodeSettings()
  if settings == nil then
    print('tsr-node webhook: TsrNode.WebhookUrl is not configured; StableStudy ' .. studyId .. ' not sent')
    return
  end

  -- Orthanc ids are hex digits and dashes, UIDs digits and dots: no JSON escaping needed.
  local studyInstanceUID = ''
  if tags ~= nil and tags['StudyInstanceUID'] ~= nil then
    studyInstanceUID = tags['StudyInstanceUID']
  end
  local body = '{"event":"StableStudy","orthancStudyId":"' .. studyId ..
               '","studyInstanceUID":"' .. studyInstanceUID .. '"}'

  local headers = { ['Content-Type'] = 'application/json' }
  if settings['WebhookToken'] ~= nil and settings['WebhookToken'] ~= '' then
    headers['Authorization'] = 'Bearer ' .. settings['WebhookToken']
  end

  -- HttpPost(url, body, headers) returns the answer body, or nil when the request failed.
  local answer = HttpPost(settings['WebhookUrl'], body, headers)
  if answer == nil then
    print('tsr-node webhook: POST to ' .. settings['WebhookUrl'] .. ' failed for study ' .. studyId)
  end
end
