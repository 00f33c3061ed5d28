#!/usr/bin/env python3
# Writes crates/server/src/openapi.json (the OpenAPI document served at /api/v1/openapi.json).
# Run: python3 scripts/openapi.py > crates/server/src/openapi.json ; the server tests check that
# every route of ward_server::ROUTES is described here and nothing else.
import json
def err(desc): return {"description": desc, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
def ok(desc, schema): return {"description": desc, "content": {"application/json": {"schema": schema}}}
ref=lambda n: {"$ref": f"#/components/schemas/{n}"}
common={"400": err("Malformed request; the message names the parameter or JSON field."),
        "401": err("No valid session cookie or bearer token."),
        "403": err("The role may not do this, or a state change lacks the X-CSRF-Token header (code csrf)."),
        "404": err("No such resource.")}
def resp(code, desc, schema, extra=()):
    r={code: ok(desc, schema)}
    for k in ("400","401","403","404"):
        if k not in extra: r[k]=common[k]
    return r
def qp(name, desc, schema={"type":"string"}):
    return {"name": name, "in": "query", "required": False, "description": desc, "schema": schema}
idp=lambda what: {"name":"id","in":"path","required":True,"description":f"The {what} id.","schema":{"type":"string"}}
def body(schema, required=True):
    return {"required": required, "content": {"application/json": {"schema": schema}}}
triage="Roles: admin, analyst, privacy_officer."
anyrole="Roles: any."
paths={}
paths["/api/v1/health"]={"get":{"summary":"Liveness and version.","security":[],"responses":{"200":ok("Up.",{"type":"object","properties":{"status":{"type":"string"},"version":{"type":"string"}}})}}}
paths["/api/v1/openapi.json"]={"get":{"summary":"This document.","security":[],"responses":{"200":ok("The OpenAPI document.",{"type":"object"})}}}
paths["/api/v1/auth/login"]={"post":{"summary":"Sign in with a password; sets the ward_session cookie (HttpOnly, SameSite=Strict) and returns the CSRF token.","security":[],
  "requestBody":body({"type":"object","required":["username","password"],"additionalProperties":False,"properties":{"username":{"type":"string"},"password":{"type":"string","format":"password"}}}),
  "responses":{"200":ok("Signed in.",ref("Me")),"400":common["400"],"401":err("Wrong user name or password."),"415":err("Not application/json."),"429":err("Too many failed sign-ins; see Retry-After.")}}}
paths["/api/v1/auth/logout"]={"post":{"summary":"End the session and clear the cookie (audited). "+anyrole,"responses":{"204":{"description":"Signed out."},"401":common["401"],"403":common["403"]}}}
paths["/api/v1/auth/me"]={"get":{"summary":"The caller and the session's CSRF token (null for a bearer token). "+anyrole,"responses":{"200":ok("The caller.",ref("Me")),"401":common["401"]}}}
alert_params=[qp("severity","Minimum severity.",{"type":"string","enum":["info","low","medium","high","critical"]}),
  qp("detector","Detector name, exact."),qp("entity","Entity, exact (host:10.1.2.3)."),qp("q","Case-insensitive substring of the title."),
  qp("status","Workflow status.",{"type":"string","enum":["open","acknowledged","closed"]}),
  qp("from","Event time, inclusive (RFC 3339).",{"type":"string","format":"date-time"}),qp("to","Event time, exclusive (RFC 3339).",{"type":"string","format":"date-time"}),
  qp("sort","Order.",{"type":"string","enum":["time_desc","time_asc","score_desc"],"default":"time_desc"}),
  qp("limit","Page size.",{"type":"integer","minimum":1,"maximum":1000,"default":100}),qp("cursor","next_cursor of the previous page, unchanged.")]
paths["/api/v1/alerts"]={"get":{"summary":"Alerts, filtered, sorted and keyset-paged. "+anyrole,"parameters":alert_params,
  "responses":resp("200","One page.",{"type":"object","properties":{"alerts":{"type":"array","items":ref("AlertWithState")},"next_cursor":{"type":["string","null"]},"total":{"type":"integer"}}},extra=("404",))}}
paths["/api/v1/alerts/{id}"]={"get":{"summary":"One alert with its state, history and cases. "+anyrole,"parameters":[idp("alert")],
  "responses":resp("200","The alert.",{"type":"object","properties":{"alert":ref("Alert"),"state":ref("AlertState"),"history":{"type":"array","items":ref("HistoryItem")},"cases":{"type":"array","items":{"type":"string"}}}},extra=("400",))}}
for action, desc, schema in [
  ("acknowledge","Take an open alert (assigns the caller when unassigned).",{"type":"object","additionalProperties":False,"properties":{"comment":{"type":"string","maxLength":4000}}}),
  ("assign","Set the assignee.",{"type":"object","required":["assignee"],"additionalProperties":False,"properties":{"assignee":{"type":"string","maxLength":256},"comment":{"type":"string","maxLength":4000}}}),
  ("close","Close with a comment and a resolution.",{"type":"object","required":["comment","resolution"],"additionalProperties":False,"properties":{"comment":{"type":"string","minLength":1,"maxLength":4000},"resolution":{"type":"string","enum":["true_positive","false_positive","benign","duplicate"]}}}),
  ("reopen","Reopen a closed alert.",{"type":"object","additionalProperties":False,"properties":{"comment":{"type":"string","maxLength":4000}}})]:
    r=resp("200","The new state.",{"type":"object","properties":{"state":ref("AlertState")}})
    r["409"]=err("The move does not fit the current state."); r["415"]=err("Not application/json.")
    paths[f"/api/v1/alerts/{{id}}/{action}"]={"post":{"summary":desc+" Audited as alert."+action+". "+triage,"parameters":[idp("alert")],"requestBody":body(schema, action in ("assign","close")),"responses":r}}
paths["/api/v1/cases"]={
  "get":{"summary":"Cases, most recently updated first. "+anyrole,"parameters":[qp("status","Case status.",{"type":"string","enum":["open","closed"]})],"responses":resp("200","Cases.",{"type":"object","properties":{"cases":{"type":"array","items":ref("Case")}}},extra=("404",))},
  "post":{"summary":"Open a case (audited case.create). "+triage,"requestBody":body({"type":"object","required":["title"],"additionalProperties":False,"properties":{"title":{"type":"string","maxLength":200},"description":{"type":"string","maxLength":8000},"alert_ids":{"type":"array","items":{"type":"string"},"maxItems":1000}}}),
    "responses":{"201":ok("Created.",{"type":"object","properties":{"case":ref("Case")}}),"400":common["400"],"401":common["401"],"403":common["403"],"415":err("Not application/json.")}}}
paths["/api/v1/cases/{id}"]={"get":{"summary":"A case and its alerts. "+anyrole,"parameters":[idp("case")],"responses":resp("200","The case.",{"type":"object","properties":{"case":ref("Case"),"alerts":{"type":"array","items":ref("AlertWithState")}}},extra=("400",))}}
paths["/api/v1/cases/{id}/alerts"]={"post":{"summary":"Add alerts to a case (audited case.add_alerts). "+triage,"parameters":[idp("case")],"requestBody":body({"type":"object","required":["alert_ids"],"additionalProperties":False,"properties":{"alert_ids":{"type":"array","items":{"type":"string"},"minItems":1,"maxItems":1000}}}),"responses":resp("200","The case.",{"type":"object","properties":{"case":ref("Case")}})}}
r=resp("200","The case.",{"type":"object","properties":{"case":ref("Case")}}); r["409"]=err("Already closed.")
paths["/api/v1/cases/{id}/close"]={"post":{"summary":"Close a case with a comment (audited case.close). "+triage,"parameters":[idp("case")],"requestBody":body({"type":"object","required":["comment"],"additionalProperties":False,"properties":{"comment":{"type":"string","minLength":1,"maxLength":4000}}}),"responses":r}}
paths["/api/v1/devices"]={"get":{"summary":"The device inventory with roles and clinical criticality. "+anyrole,"responses":resp("200","Devices.",{"type":"object","properties":{"devices":{"type":"array","items":ref("Device")}}},extra=("400","404"))}}
paths["/api/v1/events"]={"post":{"summary":"Queue NDJSON events (Zeek conn JSON or Suricata EVE, one per line) for the live detectors; all or none of a body's good lines are queued. Roles: admin, analyst.",
  "requestBody":{"required":True,"content":{"application/x-ndjson":{"schema":{"type":"string"}},"application/json":{"schema":{"type":"object"}},"text/plain":{"schema":{"type":"string"}}}},
  "responses":{"202":ok("Queued; the report lists unreadable lines (at most 100).",{"type":"object","properties":{"accepted":{"type":"integer"},"rejected":{"type":"integer"},"errors":{"type":"array","items":{"type":"object","properties":{"line":{"type":"integer"},"message":{"type":"string"}}}}}}),
   "401":common["401"],"403":common["403"],"413":err("Body over 1 MiB."),"415":err("Not NDJSON, JSON or plain text."),"503":err("Queue full (retry later), shutting down, or no pipeline (ward serve without --model).")}}}
paths["/api/v1/mail/score"]={"post":{"summary":"Score one raw RFC 5322 message for phishing: score 0-100, verdict and the reasons, strongest first. A message that cannot be read is the verdict unparseable with the reason. Roles: admin, analyst.",
  "requestBody":{"required":True,"content":{"message/rfc822":{"schema":{"type":"string"}},"application/octet-stream":{"schema":{"type":"string"}},"text/plain":{"schema":{"type":"string"}}}},
  "responses":{"200":ok("The verdict.",{"type":"object","properties":{"score":{"type":"integer","minimum":0,"maximum":100},"verdict":{"type":"string","enum":["clean","suspicious","phishing","unparseable"]},"probability":{"type":"number","description":"The model's probability of phishing, when a model scored."},"spam":{"type":"number","description":"The model's probability that the message is spam (unwanted, not phishing)."},"reasons":{"type":"array","items":{"type":"object","properties":{"code":{"type":"string"},"strength":{"type":"number"},"text":{"type":"string"}}}}}}),
   "401":common["401"],"403":common["403"],"413":err("Message over 25 MiB."),"503":err("No phishing model (ward serve without --phish-model).")}}}
paths["/api/v1/stats"]={"get":{"summary":"Alert counts over time, by status, detector and entity, and pipeline counters. "+anyrole,
  "parameters":[qp("from","Window start (RFC 3339); default: span before the newest alert.",{"type":"string","format":"date-time"}),qp("to","Window end, exclusive.",{"type":"string","format":"date-time"}),qp("bucket","Bucket width.",{"type":"string","enum":["hour","day"],"default":"hour"})],
  "responses":resp("200","Statistics.",ref("Stats"),extra=("404",))}}
paths["/api/v1/audit"]={"get":{"summary":"The hash-chained audit trail, oldest first. Roles: admin, auditor, privacy_officer.",
  "parameters":[qp("from_seq","First sequence number.",{"type":"integer","minimum":1,"default":1}),qp("limit","Page size.",{"type":"integer","minimum":1,"maximum":1000,"default":100})],
  "responses":resp("200","Entries.",{"type":"object","properties":{"entries":{"type":"array","items":ref("AuditEntry")},"next":{"type":["integer","null"]}}},extra=("404",))}}
privacy_roles=" Roles: admin, privacy_officer, auditor. Names (name, role, department, patient_name) are present only for privacy_officer, and each such answer is audited as privacy.view_names before it is sent."
paths["/api/v1/privacy/users"]={"get":{"summary":"Users with stored EHR-snooping cases (ward ehr detect --store), ranked by their highest case score."+privacy_roles,
  "parameters":[qp("since","Only cases whose last flagged access is at or after this time (RFC 3339).",{"type":"string","format":"date-time"}),qp("limit","Page size.",{"type":"integer","minimum":1,"maximum":1000,"default":100}),qp("offset","Users to skip.",{"type":"integer","minimum":0,"maximum":1000000,"default":0})],
  "responses":resp("200","One page.",{"type":"object","properties":{"users":{"type":"array","items":ref("EhrUser")},"total":{"type":"integer"},"next_offset":{"type":["integer","null"]},"names":{"type":"boolean","description":"Whether name fields are present."}}},extra=("404",))}}
paths["/api/v1/privacy/users/{user_id}"]={"get":{"summary":"One user's EHR cases and flagged accesses in time order, with the reasons for each."+privacy_roles,
  "parameters":[{"name":"user_id","in":"path","required":True,"description":"The user id of the EHR files.","schema":{"type":"string"}},qp("limit","Most flagged accesses returned.",{"type":"integer","minimum":1,"maximum":10000,"default":1000})],
  "responses":resp("200","The timeline.",{"type":"object","properties":{"user":{"type":"object","properties":{"user_id":{"type":"string"},"name":{"type":["string","null"]},"role":{"type":["string","null"]},"department":{"type":["string","null"]}}},"cases":{"type":"array","items":ref("EhrCase")},"accesses":{"type":"array","items":ref("EhrAccess")},"truncated":{"type":"boolean"},"names":{"type":"boolean"}}})}}
resp_roles=" Roles: admin, analyst, auditor, clinical_engineer, privacy_officer (viewers get 403: actions carry internal addresses and commands)."
state_enum={"type":"string","enum":["awaiting_approval","pending","running","succeeded","failed","skipped","rejected","expired"]}
paths["/api/v1/responses"]={"get":{"summary":"Jobs of the response queue, newest first."+resp_roles,
  "parameters":[qp("state","Only jobs in these states; repeat the parameter or give a comma list.",{"type":"array","items":state_enum}) | {"style":"form","explode":True},
    qp("alert","Only the jobs answering this alert id."),qp("limit","Page size.",{"type":"integer","minimum":1,"maximum":1000,"default":50}),
    qp("before","next_before of the previous page: only jobs with a smaller id.",{"type":"integer","minimum":1})],
  "responses":resp("200","One page.",{"type":"object","properties":{"jobs":{"type":"array","items":ref("Job")},"next_before":{"type":["integer","null"]},"now":{"type":"string","format":"date-time","description":"The server's clock, for the time left before an approval expires."}}},extra=("404",))}}
jobidp={"name":"id","in":"path","required":True,"description":"The job id (decimal).","schema":{"type":"integer","minimum":1}}
paths["/api/v1/responses/{id}"]={"get":{"summary":"One job and its audit entries (target job-<id>), oldest first."+resp_roles,"parameters":[jobidp],
  "responses":resp("200","The job.",{"type":"object","properties":{"job":ref("Job"),"history":{"type":"array","items":{"type":"object","properties":{"seq":{"type":"integer"},"time":{"type":"string","format":"date-time"},"actor":{"type":"string"},"action":{"type":"string"},"details":{}}}},"now":{"type":"string","format":"date-time"}}},extra=("400",))}}
for verb, desc, after in [("approve","Approve a job waiting for an approval: it becomes pending and runs.","pending"),("reject","Reject a job waiting for an approval: nothing is done, and that is recorded.","rejected")]:
    r=resp("200",f"Decided; the job (now {after}).",{"type":"object","properties":{"job":ref("Job")}})
    r["403"]=err("The caller's role is not one of the job's approval.roles (the message names them; no administrator override), or a cookie request lacks X-CSRF-Token (code csrf).")
    r["404"]=err("No such job.")
    r["409"]=err("The job is not waiting for an approval (the message says its state), or its approval had expired: the decision was not recorded and nothing was done.")
    r["415"]=err("Not application/json.")
    paths[f"/api/v1/responses/{{id}}/{verb}"]={"post":{"summary":desc+f" Audited as respond.{verb} with the comment. Roles: those in the job's approval.roles.","parameters":[jobidp],
      "requestBody":body({"type":"object","additionalProperties":False,"properties":{"comment":{"type":"string","maxLength":1000,"description":"At most 1000 bytes; kept in the audit trail."}}},False),"responses":r}}
paths["/metrics"]={"get":{"summary":"Prometheus metrics (text format 0.0.4). "+anyrole,"responses":{"200":{"description":"Metrics.","content":{"text/plain":{"schema":{"type":"string"}}}},"401":common["401"]}}}
schemas={
 "Error":{"type":"object","required":["error"],"properties":{"error":{"type":"object","required":["code","message"],"properties":{"code":{"type":"string","enum":["bad_request","unauthorized","forbidden","csrf","not_found","method_not_allowed","conflict","payload_too_large","unsupported_media_type","too_many_requests","unavailable","internal"]},"message":{"type":"string"}}}}},
 "Me":{"type":"object","properties":{"user":{"type":"string"},"role":{"type":"string","enum":["admin","analyst","privacy_officer","auditor","viewer","clinical_engineer"]},"csrf_token":{"type":["string","null"]}}},
 "Alert":{"type":"object","description":"See docs/alert-format.md.","required":["id","time","detector","score","severity","entity","title","explanation","evidence"],"properties":{"id":{"type":"string"},"time":{"type":"string","format":"date-time"},"detector":{"type":"string"},"score":{"type":"integer","minimum":0,"maximum":100},"severity":{"type":"string","enum":["info","low","medium","high","critical"]},"entity":{"type":"string"},"title":{"type":"string"},"explanation":{"type":"object"},"evidence":{"type":"object"},"mitre":{"type":"array","items":{"type":"string"}}}},
 "AlertState":{"type":"object","properties":{"status":{"type":"string","enum":["open","acknowledged","closed"]},"assignee":{"type":["string","null"]}}},
 "AlertWithState":{"allOf":[{"$ref":"#/components/schemas/Alert"},{"type":"object","properties":{"state":{"$ref":"#/components/schemas/AlertState"}}}]},
 "HistoryItem":{"type":"object","properties":{"time":{"type":"string","format":"date-time"},"actor":{"type":"string"},"action":{"type":"string"},"comment":{"type":"string"},"assignee":{"type":"string"},"resolution":{"type":"string"}}},
 "Case":{"type":"object","properties":{"id":{"type":"string"},"title":{"type":"string"},"description":{"type":"string"},"status":{"type":"string","enum":["open","closed"]},"created":{"type":"string","format":"date-time"},"created_by":{"type":"string"},"updated":{"type":"string","format":"date-time"},"alert_count":{"type":"integer"},"max_severity":{"type":["string","null"]}}},
 "Device":{"type":"object","properties":{"address":{"type":"string"},"role":{"type":"string"},"role_reasons":{"type":"array","items":{"type":"string"}},"criticality":{"type":"string"},"label":{"type":"string"},"first_seen":{"type":"string","format":"date-time"},"last_seen":{"type":"string","format":"date-time"},"server_protocols":{"type":"array","items":{"type":"string"}},"client_protocols":{"type":"array","items":{"type":"string"}},"peers":{"type":"integer"},"flows":{"type":"integer"},"bytes":{"type":"integer"},"profiled":{"type":"boolean"}}},
 "Stats":{"type":"object","properties":{"from":{"type":"string"},"to":{"type":"string"},"bucket":{"type":"string"},"series":{"type":"array","items":{"type":"object"}},"by_status":{"type":"object"},"by_detector":{"type":"array","items":{"type":"object"}},"top_entities":{"type":"array","items":{"type":"object"}},"total":{"type":"integer"},"pipeline":{"type":["object","null"]}}},
 "EhrUser":{"type":"object","properties":{"user_id":{"type":"string"},"cases":{"type":"integer"},"accesses":{"type":"integer"},"patients":{"type":"integer"},"max_score":{"type":"number","description":"Highest case score, in log-odds."},"last":{"type":"string","format":"date-time"},"signals":{"type":"array","items":{"type":"string"}},"name":{"type":["string","null"],"description":"privacy_officer only."},"role":{"type":["string","null"]},"department":{"type":["string","null"]}}},
 "EhrCase":{"type":"object","properties":{"id":{"type":"string","description":"The id of the alert raised for the case."},"user_id":{"type":"string"},"day":{"type":"string","format":"date-time"},"first":{"type":"string","format":"date-time"},"last":{"type":"string","format":"date-time"},"score":{"type":"number"},"patients":{"type":"integer"},"signals":{"type":"array","items":{"type":"string"}},"summary":{"type":"string"}}},
 "EhrReason":{"type":"object","properties":{"code":{"type":"string"},"text":{"type":"string"},"weight":{"type":"number"}}},
 "EhrAccess":{"type":"object","properties":{"case":{"type":"string"},"row":{"type":"integer","description":"0-based data row of the access file."},"time":{"type":"string","format":"date-time"},"patient_id":{"type":"string"},"patient_name":{"type":["string","null"],"description":"privacy_officer only."},"action":{"type":"string"},"score":{"type":"number"},"link":{"type":"string"},"reasons":{"type":"array","items":{"$ref":"#/components/schemas/EhrReason"}}}},
 "Job":{"type":"object","description":"A step of a response playbook in the durable queue (see docs/respond.md).","properties":{"id":{"type":"integer"},"key":{"type":"string","description":"Idempotency key."},"alert_id":{"type":"string"},"playbook":{"type":"string"},"step":{"type":"string"},"entity":{"type":"string"},"kind":{"type":"string","description":"webhook, exec, email, syslog, firewall, disable_account, open_case, quarantine."},"action":{"type":"object","description":"The action as planned; webhook header values and URL credentials and query are shown as …."},"effect":{"type":"string","enum":["notify","record","contain","release"]},"state":state_enum,
   "approval":{"type":["object","null"],"description":"The approval asked: roles, clinical, proceed_on_timeout, timeout_minutes, reason; after a verdict, decision {by, role, comment, via, time}."},"expires_at":{"type":["string","null"],"format":"date-time"},"attempts":{"type":"integer"},"max_attempts":{"type":"integer"},"timeout_secs":{"type":"integer"},"next_at":{"type":"string","format":"date-time"},"lease_until":{"type":["string","null"],"format":"date-time"},"result":{"description":"The outcome or the last error (null before)."},"rollback_of":{"type":["integer","null"]},"created":{"type":"string","format":"date-time"},"updated":{"type":"string","format":"date-time"}}},
 "AuditEntry":{"type":"object","properties":{"seq":{"type":"integer"},"time":{"type":"string"},"actor":{"type":"string"},"action":{"type":"string"},"target":{"type":"string"},"details":{},"prev_hash":{"type":"string"},"hash":{"type":"string"}}},
}
doc={"openapi":"3.1.0","info":{"title":"ward API","version":"1","description":"The REST API of ward serve. Prose contract: docs/api.md. State changes made with the session cookie need the X-CSRF-Token header."},
 "servers":[{"url":"/"}],
 "security":[{"session":[],"csrf":[]},{"bearer":[]}],
 "paths":paths,
 "components":{"securitySchemes":{"session":{"type":"apiKey","in":"cookie","name":"ward_session"},"csrf":{"type":"apiKey","in":"header","name":"X-CSRF-Token"},"bearer":{"type":"http","scheme":"bearer","description":"ward_<64 hex>, made with `ward user token`."}},"schemas":schemas}}
print(json.dumps(doc, indent=1))
