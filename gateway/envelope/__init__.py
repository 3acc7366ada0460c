"""The document envelope: an RFC 5322 message carrying edXML metadata, the PDF and attachments."""
