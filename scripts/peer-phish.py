#!/usr/bin/env python3
"""Peer measurement for BENCHMARKS.md: the usual Python phishing classifier on the same mail as
`ward bench phish`.

Trains TF-IDF (word 1-2 grams) with logistic regression on the Nazario CSV (phishing) and the
SpamAssassin folders (ham, spam), then times scoring raw messages end to end, one thread:
parse with the standard library's `email` package, take the text (plain parts, else HTML with
tags stripped), transform, predict_proba. The size bands match `ward bench phish`. Run it in
the same session as `ward bench phish` so the figures form a ratio on one machine:

    OMP_NUM_THREADS=1 python3 scripts/peer-phish.py ../shared/datasets/phishing/email

Needs scikit-learn (pip install scikit-learn). Not part of the test suite.
"""
import csv
import email
import email.policy
import os
import re
import sys
import time

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

root = sys.argv[1]
n_messages = int(sys.argv[2]) if len(sys.argv) > 2 else 5000
csv.field_size_limit(1 << 30)
TAG = re.compile(r"<[^>]+>")


def text_of(raw: bytes) -> str:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    subject = str(msg.get("subject", ""))
    parts = []
    html = []
    for part in msg.walk():
        if part.get_content_maintype() != "text" or part.is_attachment():
            continue
        try:
            body = part.get_content()
        except Exception:
            continue
        (html if part.get_content_subtype() == "html" else parts).append(body)
    body = " ".join(parts) if parts else TAG.sub(" ", " ".join(html))
    return subject + " " + body


def raws(folder):
    out = []
    for name in sorted(os.listdir(folder)):
        with open(os.path.join(folder, name), "rb") as f:
            out.append(f.read())
    return out


ham = raws(os.path.join(root, "spamassassin", "easy-ham-1"))
spam = raws(os.path.join(root, "spamassassin", "spam-1"))
with open(os.path.join(root, "nazario-dev.csv"), newline="", encoding="utf-8") as f:
    phish = [r["subject"] + " " + r["body"] for r in csv.DictReader(f)]

texts = [text_of(r) for r in ham] + [text_of(r) for r in spam] + phish
labels = [0] * len(ham) + [1] * len(spam) + [2] * len(phish)
vec = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
X = vec.fit_transform(texts)
model = LogisticRegression(max_iter=2000).fit(X, labels)

bands = [("all", 0, 1 << 62), ("under 10 KB", 0, 10 << 10), ("10-50 KB", 10 << 10, 50 << 10), ("over 50 KB", 50 << 10, 1 << 62)]
every = ham + spam
print(f"{len(every)} messages read; scored end to end (email parse, TF-IDF, logistic regression), one thread:")
for name, lo, hi in bands:
    group = [r for r in every if lo <= len(r) < hi]
    if not group:
        continue
    t = time.perf_counter()
    size = 0
    for i in range(n_messages):
        raw = group[i % len(group)]
        size += len(raw)
        model.predict_proba(vec.transform([text_of(raw)]))
    secs = time.perf_counter() - t
    print(f"  {name:<12} {len(group):>6} distinct, mean {size / n_messages / 1024:5.1f} KB: {n_messages / secs:8.0f} messages/s ({size / secs / 1e6:.1f} MB/s)")
