"""The voice-menu editor pages (managers only): flows, versions, recordings, the simulator."""
