"""The one table of reason codes.

Every refusal, temporary failure and notice the gateway produces names one of these. The same entry gives the SMTP
reply code, the enhanced status code (RFC 3463), the edXML status the receipt carries, and the message shown to
people in Vietnamese and English. Handlers, receipts, docs and tests all read this table; a new failure mode gets a
new row here, never an ad-hoc string elsewhere. Codes are stable: never renumber or reuse one.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    PERMANENT = "permanent"  # the sender must change something (5xx)
    TEMPORARY = "temporary"  # our fault or a passing condition; the sender retries (4xx)


@dataclass(frozen=True, slots=True)
class Reason:
    code: str
    smtp_code: int
    enhanced: str
    edxml_status: str | None
    vi: str
    en: str

    @property
    def severity(self) -> Severity:
        return Severity.TEMPORARY if self.smtp_code < 500 else Severity.PERMANENT

    def smtp_reply(self, detail: str = "") -> str:
        """The full SMTP reply line: code, enhanced code, stable reason code and the English text."""
        suffix = f": {detail}" if detail else ""
        return f"{self.smtp_code} {self.enhanced} [{self.code}] {self.en}{suffix}"


REFUSED = "02"  # edXML status: Từ chối tiếp nhận

_TABLE: tuple[Reason, ...] = (
    # -- message structure and size -------------------------------------------------------------------------
    Reason(
        "MIME_MALFORMED",
        554,
        "5.6.0",
        REFUSED,
        "Thư không đúng cấu trúc MIME",
        "The message is not well-formed MIME",
    ),
    Reason(
        "ENVELOPE_STRUCTURE",
        554,
        "5.6.0",
        REFUSED,
        "Phong bì văn bản thiếu phần hoặc sai thứ tự các phần",
        "The document envelope has missing, extra or misordered parts",
    ),
    Reason(
        "MIME_TOO_COMPLEX",
        552,
        "5.3.4",
        REFUSED,
        "Thư quá phức tạp (lồng nhau quá sâu, quá nhiều phần hoặc tiêu đề quá lớn)",
        "The message is too complex (nesting depth, part count or header size over the limit)",
    ),
    Reason(
        "MESSAGE_TOO_BIG",
        552,
        "5.3.4",
        REFUSED,
        "Thư vượt quá dung lượng cho phép",
        "The message exceeds the size limit",
    ),
    Reason("HEADER_INVALID", 554, "5.6.0", REFUSED, "Tiêu đề thư không hợp lệ", "A message header is invalid"),
    # -- metadata (edXML header) ---------------------------------------------------------------------------
    Reason(
        "METADATA_XML",
        554,
        "5.6.0",
        REFUSED,
        "Phần siêu dữ liệu edXML không đọc được",
        "The edXML metadata part cannot be parsed",
    ),
    Reason("FIELD_MISSING", 554, "5.6.0", REFUSED, "Thiếu trường bắt buộc", "A required field is missing"),
    Reason(
        "FIELD_TOO_LONG",
        554,
        "5.6.0",
        REFUSED,
        "Trường vượt quá độ dài cho phép",
        "A field is longer than allowed",
    ),
    Reason(
        "FIELD_INVALID",
        554,
        "5.6.0",
        REFUSED,
        "Giá trị của trường không hợp lệ",
        "A field has an invalid value",
    ),
    Reason(
        "DOCUMENT_ID_MISMATCH",
        554,
        "5.6.0",
        REFUSED,
        "Mã văn bản (DocumentId) không khớp với cơ quan gửi, ngày ban hành hoặc số, ký hiệu",
        "DocumentId does not match the sender, issue date or number/notation",
    ),
    Reason(
        "DOCUMENT_ID_TAKEN",
        554,
        "5.6.0",
        REFUSED,
        "Số, ký hiệu và ngày ban hành này đã được dùng cho một văn bản khác đã gửi",
        "This number/notation and issue date already identify a different document sent earlier",
    ),
    Reason(
        "ISSUE_DATE_FUTURE",
        554,
        "5.6.0",
        REFUSED,
        "Ngày ban hành ở tương lai",
        "The issue date is in the future",
    ),
    Reason(
        "RECIPIENT_UNKNOWN",
        550,
        "5.1.1",
        REFUSED,
        "Cơ quan nhận không có trong danh mục",
        "The recipient agency is not in the registry",
    ),
    Reason(
        "SENDER_UNKNOWN",
        550,
        "5.1.8",
        REFUSED,
        "Cơ quan gửi không có trong danh mục hoặc đã ngừng hoạt động",
        "The sending agency is not in the registry or is suspended",
    ),
    Reason(
        "TEXT_NOT_UNICODE",
        554,
        "5.6.3",
        REFUSED,
        "Văn bản không dùng bảng mã Unicode (TCVN 6909)",
        "Text is not Unicode (TCVN 6909); a legacy Vietnamese encoding was detected",
    ),
    Reason(
        "TEXT_NOT_NFC",
        554,
        "5.6.3",
        REFUSED,
        "Văn bản Unicode chưa ở dạng dựng sẵn (NFC)",
        "Text is not in Unicode normal form C (precomposed)",
    ),
    # -- manifest and parts --------------------------------------------------------------------------------
    Reason(
        "MANIFEST_DIGEST_MISMATCH",
        554,
        "5.6.0",
        REFUSED,
        "Mã băm hoặc kích thước của một phần không khớp với bảng kê",
        "A part's SHA-256 digest or size does not match the manifest",
    ),
    Reason(
        "MANIFEST_PART_MISSING",
        554,
        "5.6.0",
        REFUSED,
        "Bảng kê liệt kê một phần không có trong thư",
        "The manifest lists a part that is not in the message",
    ),
    Reason(
        "MANIFEST_PART_EXTRA",
        554,
        "5.6.0",
        REFUSED,
        "Thư có phần không được liệt kê trong bảng kê",
        "The message has a part the manifest does not list",
    ),
    # -- the main PDF --------------------------------------------------------------------------------------
    Reason(
        "PDF_MISSING",
        554,
        "5.6.0",
        REFUSED,
        "Thiếu văn bản chính định dạng PDF",
        "The main document (PDF) is missing",
    ),
    Reason("PDF_UNREADABLE", 554, "5.6.0", REFUSED, "Không mở được tệp PDF", "The PDF cannot be opened"),
    Reason(
        "PDF_ENCRYPTED",
        554,
        "5.6.0",
        REFUSED,
        "Tệp PDF bị mã hóa hoặc đặt mật khẩu",
        "The PDF is encrypted or password-protected",
    ),
    Reason(
        "PDF_VERSION",
        554,
        "5.6.0",
        REFUSED,
        "Phiên bản PDF thấp hơn 1.4",
        "The PDF version is lower than 1.4",
    ),
    Reason(
        "PDF_PAGE_COUNT",
        554,
        "5.6.0",
        REFUSED,
        "Số trang PDF không khớp với số trang khai báo",
        "The PDF page count does not match PageAmount",
    ),
    Reason(
        "PDF_TOO_COMPLEX",
        552,
        "5.3.4",
        REFUSED,
        "Tệp PDF vượt giới hạn (số trang, số đối tượng hoặc dữ liệu giải nén)",
        "The PDF exceeds a limit (pages, objects or decompressed size)",
    ),
    # -- policy (regulation Art. 4.1) ----------------------------------------------------------------------
    Reason(
        "CLASSIFIED",
        550,
        "5.7.1",
        REFUSED,
        "Văn bản mật, tối mật, tuyệt mật không được gửi qua hệ thống (Điều 4.1)",
        "Classified documents may not be sent through the system (Art. 4.1)",
    ),
    Reason(
        "DENUNCIATION",
        550,
        "5.7.1",
        REFUSED,
        "Đơn thư tố cáo không được gửi qua hệ thống (Điều 4.1)",
        "Denunciations may not be sent through the system (Art. 4.1)",
    ),
    # -- signatures and trust ------------------------------------------------------------------------------
    Reason(
        "SIGNATURE_MISSING",
        550,
        "5.7.7",
        REFUSED,
        "Văn bản không có chữ ký số S/MIME của cơ quan gửi",
        "The document has no S/MIME signature",
    ),
    Reason(
        "SIGNATURE_INVALID",
        550,
        "5.7.7",
        REFUSED,
        "Chữ ký số không hợp lệ (nội dung đã bị thay đổi)",
        "The signature does not verify (content was altered)",
    ),
    Reason(
        "CERT_UNTRUSTED",
        550,
        "5.7.7",
        REFUSED,
        "Chứng thư số không chuỗi tới cơ quan chứng thực tin cậy",
        "The signer's certificate does not chain to a trusted CA",
    ),
    Reason(
        "CERT_EXPIRED",
        550,
        "5.7.7",
        REFUSED,
        "Chứng thư số hết hạn hoặc chưa có hiệu lực tại thời điểm ký",
        "The signer's certificate was not valid at signing time",
    ),
    Reason(
        "CERT_REVOKED",
        550,
        "5.7.7",
        REFUSED,
        "Chứng thư số đã bị thu hồi",
        "The signer's certificate is revoked",
    ),
    Reason(
        "CERT_WRONG_USAGE",
        550,
        "5.7.7",
        REFUSED,
        "Chứng thư số không dùng cho ký thư điện tử",
        "The certificate is not for e-mail protection",
    ),
    Reason(
        "SIGNER_NOT_SENDER",
        550,
        "5.7.1",
        REFUSED,
        "Người ký không phải là cơ quan gửi khai báo",
        "The signer is not the agency named as sender",
    ),
    Reason(
        "PDF_SIGNATURE_INVALID",
        554,
        "5.7.7",
        REFUSED,
        "Chữ ký số trên tệp PDF không hợp lệ",
        "The digital signature inside the PDF is invalid",
    ),
    Reason(
        "DKIM_FAIL",
        550,
        "5.7.20",
        REFUSED,
        "Không có chữ ký DKIM hợp lệ của cổng gửi",
        "No passing DKIM signature from the sending gateway",
    ),
    Reason(
        "SIGNING_TIME_INVALID",
        550,
        "5.7.7",
        REFUSED,
        "Chữ ký số thiếu thời điểm ký hoặc thời điểm ký ở tương lai",
        "The signature has no signing time, or a signing time in the future",
    ),
    Reason(
        "RECEIPT_MIC_MISMATCH",
        554,
        "5.7.7",
        None,  # found by the sender's gateway in a receipt; no receipt ever carries it
        "Mã băm trong hồi báo (Received-Content-MIC) không khớp với văn bản đã gửi: chưa xác nhận văn bản đã đến",
        "The receipt's Received-Content-MIC differs from the MIC of what was sent: arrival is not confirmed",
    ),
    Reason(
        "RECEIPT_NOT_FROM_RECIPIENT",
        554,
        "5.7.1",
        None,  # found by the sender's gateway in a receipt; no receipt ever carries it
        "Hồi báo do cơ quan không phải nơi nhận văn bản ký: không xác nhận văn bản đã đến",
        "The receipt is signed by an agency the document was not sent to: it confirms no arrival",
    ),
    Reason(
        "SENDER_NOT_HOSTED_BY_PEER",
        550,
        "5.7.1",
        REFUSED,
        "Cơ quan gửi không thuộc cổng đã chuyển văn bản đến (theo danh bạ)",
        "The sending agency is not hosted by the gateway that relayed the document (per the registry)",
    ),
    Reason(
        "CERT_STATUS_UNKNOWN",
        451,
        "4.7.5",
        None,
        "Chưa xác định được tình trạng thu hồi của chứng thư số (thiếu hoặc quá hạn CRL)",
        "The certificate's revocation status cannot be determined (CRL missing or stale)",
    ),
    # -- SMTP session --------------------------------------------------------------------------------------
    Reason("AUTH_REQUIRED", 530, "5.7.0", None, "Cần xác thực", "Authentication required"),
    Reason(
        "AUTH_FAILED",
        535,
        "5.7.8",
        None,
        "Sai tên đăng nhập hoặc mật khẩu",
        "Authentication credentials invalid",
    ),
    Reason(
        "TLS_REQUIRED",
        530,
        "5.7.11",
        None,
        "Cần mã hóa TLS trước khi xác thực",
        "Encryption required before authentication",
    ),
    Reason("RELAY_DENIED", 550, "5.7.1", None, "Cổng không chuyển tiếp thư cho địa chỉ này", "Relaying denied"),
    Reason(
        "PEER_PIN_MISMATCH",
        550,
        "5.7.1",
        None,
        "Chứng thư TLS của cổng gửi không khớp với dấu vân tay đã đăng ký",
        "The peer gateway's TLS certificate is not the one pinned for it",
    ),
    Reason(
        "SENDER_MISMATCH",
        550,
        "5.7.1",
        REFUSED,
        "Địa chỉ người gửi không khớp với tài khoản đăng nhập",
        "The sender address does not match the authenticated mailbox",
    ),
    Reason(
        "BARE_LINE_ENDING",
        550,
        "5.6.11",
        None,
        "Dòng kết thúc bằng LF hoặc CR đơn lẻ",
        "Bare LF or CR line endings are not allowed",
    ),
    # -- our own failures: the sender retries --------------------------------------------------------------
    Reason(
        "TEMP_DATABASE",
        451,
        "4.3.0",
        None,
        "Lỗi tạm thời của hệ thống, vui lòng gửi lại sau",
        "Temporary system error, try again later",
    ),
    Reason(
        "TEMP_STORAGE",
        452,
        "4.3.1",
        None,
        "Hệ thống tạm thời hết dung lượng lưu trữ",
        "Insufficient system storage, try again later",
    ),
    Reason(
        "TEMP_MAINTENANCE",
        421,
        "4.3.2",
        None,
        "Hệ thống đang bảo trì",
        "System under maintenance, try again later",
    ),
    Reason(
        "TEMP_PDF_INSPECTION",
        451,
        "4.3.0",
        None,
        "Hệ thống tạm thời không kiểm tra được tệp PDF, vui lòng gửi lại sau",
        "The PDF cannot be inspected at the moment (no worker process could start), try again later",
    ),
)

REASONS: dict[str, Reason] = {reason.code: reason for reason in _TABLE}
assert len(REASONS) == len(_TABLE), "duplicate reason code"


def reason(code: str) -> Reason:
    """Look up a reason by its stable code; an unknown code is a programming error."""
    return REASONS[code]
