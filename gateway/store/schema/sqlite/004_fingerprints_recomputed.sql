-- omads-gateway SQLite schema, step 4: the content fingerprints are computed anew.
-- Their definition changed (gateway/ds/contentops.py now reads content lines as
-- gateway/content/vformat.py unfolds them: quoted-printable soft breaks and vCard 2.1
-- base64 continuation lines joined), so the stored ones are forgotten; NULL = not known:
-- the engine fills them in before the next slow sync pairs by them (step 2).

UPDATE items SET fingerprint = NULL WHERE fingerprint IS NOT NULL;
