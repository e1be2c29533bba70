"""Release records: one signed, durable record per published datalab version and build.

- `signing`: the catalog's key pair and the DSSE envelopes (securesystemslib);
- `record`: the in-toto statement (SLSA provenance v1) a record is, and the `Release` read from it;
- `registry`: records stored as OCI artifacts attached to the image digest (ORAS);
- `publish`: the default branch's pipeline writes a record after it pushed image and chart;
- `mirror`: the store's local copy of every record, rebuilt from the registry (`sciapps releases sync`);
- `judge`: one verdict on one record, shared by `verify`, `launch` and the store.
"""
