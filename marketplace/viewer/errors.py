"""The data viewer's error codes, and the domain errors its engine's problems become."""

from __future__ import annotations

import enum


@enum.unique
class ViewerErrorCode(enum.StrEnum):
    """Why the viewer could not show a file (a refused full file answers with delivery's refusal codes)."""

    UNSUPPORTED_FORMAT = "viewer_unsupported_format"  # not CSV, JSON Lines, Parquet, text, image, audio or video
    MALFORMED_FILE = "viewer_malformed_file"  # the bytes are not what the format says
    FILE_TOO_LARGE = "viewer_file_too_large"  # larger than VIEWER_MAX_BYTES, so not read on the fly
    TIME_LIMIT = "viewer_time_limit"  # reading took longer than VIEWER_TIMEOUT_SECONDS
    OFFSET_OUT_OF_RANGE = "viewer_offset_out_of_range"
    LENGTH_OUT_OF_RANGE = "viewer_length_out_of_range"
    QUERY_INVALID = "viewer_query_invalid"  # an empty or too long search
    NOT_TABULAR = "viewer_not_tabular"  # rows or statistics asked of an image, audio or video file
    ILLEGAL_TRANSITION = "illegal_transition"  # a move the statistics' state machine does not allow (shared)
