"""Streaming layer scanning: verify, decompress and parse a layer's tar headers without extracting."""
