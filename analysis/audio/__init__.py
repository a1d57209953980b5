"""Sound: decoding, resampling, spectrograms and their pictures, sound-event tags."""
