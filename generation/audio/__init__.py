"""Turning a piece (human or machine) into a listening-test stimulus, by one path for both.

canonical -> excerpt -> synth -> finishing -> encoding, tied together by pipeline; rollimage
draws the excerpt for researchers. Pure code: plain data in and out, no Django.
"""
