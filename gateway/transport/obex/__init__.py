"""SyncML over OBEX in Twisted: listeners (TCP, serial, RFCOMM), dial-out, the client link."""
