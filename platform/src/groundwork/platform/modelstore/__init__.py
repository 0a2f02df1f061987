"""Models in Google Cloud Storage: publish a model directory with a checksum manifest (`push`), download and
verify it (`pull`), check a published copy without downloading it (`verify_remote`), serve `gs://` model URIs
(`resolver`), and record which model each deployment serves (`registry`).

google-cloud-storage is imported only by `modelstore.gcs`; everything else works on the `ObjectStore` role.
"""
