"""EU AI Act Article 10 documentation packs: per published version, what Article 10(2) to (5) asks a provider of
training data to document, signed off by a named member of the provider, as JSON and PDF.

A published version is immutable, so its documentation must be too: signing off (:mod:`.services`) freezes the
pack's content as it stands (:class:`.models.AiActSignOff`), and the pack of a signed-off version is read from
that snapshot ever after, whatever later happens to the listing's record. Before sign-off the pack is a draft
built from the listing as it is now, with the parts still missing named in plain words.
"""
