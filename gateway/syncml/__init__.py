"""The SyncML representation: message model, XML and WBXML codecs, DevInf, codes.

I/O-free: imports only the standard library and lxml.
"""
