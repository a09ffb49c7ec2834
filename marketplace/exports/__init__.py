"""Delivery to the licensee's own bucket: S3-compatible destinations (credentials sealed with the key ring) and
exports of a licensed version into them, run as background jobs and verified object by object at the destination."""
