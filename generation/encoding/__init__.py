"""The two representations of the seed models; both decode back to MIDI. No Django here."""
