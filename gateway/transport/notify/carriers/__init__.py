"""The notification carriers: GSM modem, Kannel sendsms, PAP to a PPG, SIP, plain UDP."""
