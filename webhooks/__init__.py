"""The Twilio HTTP edge: signature checks, form parsing, TwiML rendering."""
