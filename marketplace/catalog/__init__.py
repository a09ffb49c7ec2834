"""The catalog: dataset listings with their full metadata, immutable versions with file manifests, samples, the
review workflow, search with facets, catalog import, and the Croissant, DCAT and schema.org exports.

Entry points for other domains: :func:`services.get_published_dataset`, :func:`services.get_version`,
:func:`services.version_files`, :func:`manifest.compute_manifest_digest`, and :func:`search.register_facet`.
"""
