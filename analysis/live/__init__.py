"""The camera and the microphone, analysed while they stream."""
