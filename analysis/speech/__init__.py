"""Speech: what is said (Whisper) and how (Praat), with subtitles and a timeline picture."""
