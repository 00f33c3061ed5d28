#!/usr/bin/env python3
"""The peer for `ward bench fraud`: the same claim rules written the way an analyst would in
pandas (vectorised group-bys and joins), timed on the same files.

    python3 scripts/peer-fraud.py claims-folder/

Rules: service after death, duplicate claims, overlapping inpatient stays, physician minutes
per day over 24 h (15 min per outpatient claim + 30 per procedure, 30 per inpatient claim).
Prints claims per second for reading and for the rules, one thread."""
import sys
import time

import pandas as pd

root = sys.argv[1]
t0 = time.perf_counter()
ip = pd.read_csv(f"{root}/inpatient.csv", dtype=str)
op = pd.read_csv(f"{root}/outpatient.csv", dtype=str)
bene = pd.read_csv(f"{root}/beneficiary.csv", dtype=str, usecols=["BeneID", "DOD"])
read = time.perf_counter() - t0
n = len(ip) + len(op)

t1 = time.perf_counter()
ip["kind"] = "I"
op["kind"] = "O"
c = pd.concat([ip, op], ignore_index=True)
for col in ["ClaimStartDt", "ClaimEndDt", "AdmissionDt", "DischargeDt"]:
    c[col] = pd.to_datetime(c[col], errors="coerce")
c["amount"] = pd.to_numeric(c["InscClaimAmtReimbursed"], errors="coerce")
bene["DOD"] = pd.to_datetime(bene["DOD"], errors="coerce")
# after death
m = c[["BeneID", "ClaimStartDt"]].merge(bene, on="BeneID", how="left")
after_death = int((m["ClaimStartDt"] > m["DOD"]).sum())
# duplicates: same beneficiary, provider, dates, amount and codes under another claim id
dx = [f"ClmDiagnosisCode_{i}" for i in range(1, 11)]
px = [f"ClmProcedureCode_{i}" for i in range(1, 7)]
key = ["BeneID", "Provider", "ClaimStartDt", "ClaimEndDt", "amount", "kind"] + dx + px
duplicates = int(c.duplicated(subset=key, keep="first").sum())
# overlapping inpatient stays: each stay against the previous one of the same beneficiary
s = c[c["kind"] == "I"].sort_values(["BeneID", "AdmissionDt"])
prev_end = s.groupby("BeneID")["DischargeDt"].shift()
overlaps = int((s["AdmissionDt"] < prev_end).sum())
# physician minutes per day
n_px = c[px].notna().sum(axis=1)
c["minutes"] = (15 + 30 * n_px).where(c["kind"] == "O", 30)
day = c.groupby(["AttendingPhysician", "ClaimStartDt"])["minutes"].sum()
impossible = int((day > 1440).sum())
rules = time.perf_counter() - t1

print(f"{n} claims read in {read:.2f} s: {n / read:.0f} claims/s")
print(f"rules (pandas, one thread): {n / rules:.0f} claims/s ({rules:.2f} s)")
print(f"  after death {after_death}, duplicates {duplicates}, overlaps {overlaps}, impossible days {impossible}")
