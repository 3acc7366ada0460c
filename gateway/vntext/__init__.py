"""Vietnamese text: NFC normalisation and recognition/conversion of legacy encodings (TCVN3, VNI, VIQR, cp1258).

The gateway stores and compares text in NFC. Legacy input is recognised so that it can be refused with the
converted text as a suggestion, or converted when the sending agency's configuration allows it. Conversion applies
to extracted metadata only, never to signed bytes.
"""

from gateway.vntext.convert import ENCODINGS, convert_legacy, nfc
from gateway.vntext.detect import LegacyText, detect_legacy

__all__ = ["ENCODINGS", "LegacyText", "convert_legacy", "detect_legacy", "nfc"]
