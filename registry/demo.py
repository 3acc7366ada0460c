"""A demo province (Cà Mau, in its shape after the 1 July 2025 reform) to try lienthong with.

ILLUSTRATIVE DATA. ``000.00.00.H12`` for the provincial People's Committee is inferred from the alphabetical
numbering of provinces, not seen in an official list; every other code here is invented with the right structure.
Edit or replace all of it before real use. The district of Năm Căn is kept, suspended since the district level was
abolished, so that documents dated before then still resolve.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from registry import accounts, agencies
from registry.agencies import AgencySpec
from registry.models import AgencyStatus, Role

PROVINCE = "000.00.00.H12"
REFORM_DAY = date(2025, 7, 1)


@dataclass(frozen=True)
class DemoAgency:
    organ_id: str
    name: str
    short_name: str
    slug: str  # sub-domain of the records-office mailbox
    parent_id: str | None = PROVINCE
    phone: str | None = None
    suspended_since: date | None = None


AGENCIES = (
    DemoAgency(PROVINCE, "Ủy ban nhân dân tỉnh Cà Mau", "UBND", "ubnd", None, "0290 3831 000"),
    DemoAgency("000.00.01.H12", "Văn phòng Ủy ban nhân dân tỉnh Cà Mau", "VP", "vpubnd", phone="0290 3831 001"),
    DemoAgency("000.00.11.H12", "Sở Khoa học và Công nghệ tỉnh Cà Mau", "SKHCN", "skhcn", phone="0290 3831 011"),
    DemoAgency("000.00.15.H12", "Sở Tài chính tỉnh Cà Mau", "STC", "stc", phone="0290 3831 015"),
    DemoAgency("000.00.22.H12", "Sở Y tế tỉnh Cà Mau", "SYT", "syt"),
    DemoAgency("000.00.08.H12", "Sở Giáo dục và Đào tạo tỉnh Cà Mau", "SGDĐT", "sgddt"),
    DemoAgency("000.00.61.H12", "Ủy ban nhân dân phường An Xuyên", "UBND", "anxuyen"),
    DemoAgency("000.00.62.H12", "Ủy ban nhân dân phường Tân Thành", "UBND", "tanthanh"),
    DemoAgency("000.00.63.H12", "Ủy ban nhân dân xã Năm Căn", "UBND", "xanamcan"),
    DemoAgency("000.00.37.H12", "Ủy ban nhân dân huyện Năm Căn", "UBND", "huyennamcan", suspended_since=REFORM_DAY),
)


@dataclass(frozen=True)
class Credential:
    login: str
    role: str
    agency: str | None
    password: str


#: The Sở Khoa học và Công nghệ runs the provincial data centre and the exchange (the role Art. 15 gives the former
#: information-and-communications department); its records-office certificate signs the gateway's notices.
OPERATOR = "000.00.11.H12"


def mailbox(slug: str, domain: str) -> str:
    return f"vanthu@{slug}.{domain}"


def load(session: Session, *, gateway_name: str, domain: str) -> list[Credential]:
    """Add the demo agencies and accounts (the caller commits); returns the generated credentials, shown once."""
    for demo in AGENCIES:
        agencies.add(
            session,
            AgencySpec(
                organ_id=demo.organ_id,
                name=demo.name,
                short_name=demo.short_name,
                parent_id=demo.parent_id,
                mailboxes=(mailbox(demo.slug, domain),),
                phone=demo.phone,
                status=AgencyStatus.SUSPENDED.value if demo.suspended_since else AgencyStatus.ACTIVE.value,
                suspended_since=demo.suspended_since,
            ),
            gateway_name,
        )
    wanted = [
        (f"admin@{domain}", Role.ADMIN, None),
        (f"kiemtoan@{domain}", Role.AUDITOR, None),
        (mailbox("stc", domain), Role.CLERK, "000.00.15.H12"),
        (f"qlvb@stc.{domain}", Role.SYSTEM, "000.00.15.H12"),
        (mailbox("skhcn", domain), Role.CLERK, "000.00.11.H12"),
        (f"qlvb@skhcn.{domain}", Role.SYSTEM, "000.00.11.H12"),
        (mailbox("ubnd", domain), Role.CLERK, PROVINCE),
    ]
    credentials = []
    for login, role, organ_id in wanted:
        password = accounts.generate_password()
        accounts.add(session, login, role, password, organ_id)
        credentials.append(Credential(login, role.value, organ_id, password))
    return credentials
