"""MLCommons Croissant (1.0 and 1.1, with the Responsible AI vocabulary): import and export of listings.

- :mod:`.reading` reads a document as hosts publish it into a listing record, declared files and record sets,
  reporting every problem by its JSON path (:mod:`.structure` checks the distribution and record sets);
- :mod:`.model` and :mod:`.store` keep what the listing's columns do not hold, and tell which declared files
  uploads fulfil;
- :mod:`.export` writes the listing's own metadata as Croissant properties, :mod:`.document` the whole 1.1
  document (an imported one as it was imported, but for what the provider changed since).
"""

from marketplace.catalog.croissant.document import croissant_document
from marketplace.catalog.croissant.export import listing_properties, personal_data_statement
from marketplace.catalog.croissant.reading import CroissantImport, read_document
from marketplace.catalog.croissant.structure import Problem
from marketplace.catalog.croissant.vocabulary import CONTEXT_1_0, CONTEXT_1_1, CROISSANT_1_0, CROISSANT_1_1, RAI_1_0

__all__ = [
    "CONTEXT_1_0",
    "CONTEXT_1_1",
    "CROISSANT_1_0",
    "CROISSANT_1_1",
    "RAI_1_0",
    "CroissantImport",
    "Problem",
    "croissant_document",
    "listing_properties",
    "personal_data_statement",
    "read_document",
]
