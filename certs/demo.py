"""Trust material for the demo province, so that `make run` starts a gateway that really signs and verifies.

Creates the provincial CA (keys unencrypted: a demo, not a deployment), an S/MIME certificate for the primary
records-office mailbox of every active agency this gateway hosts, a TLS certificate for the gateway's domain, and
the DKIM keys. A real province runs `lienthong ca init` with a passphrase and issues certificates one by one.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from certs import dkim, lifecycle
from certs.ca import init_ca, load_issuing
from certs.context import issue_policy, trust_files
from certs.keys import KeyAlgorithm
from certs.store import TrustEventKind
from gateway.home import Home
from registry.models import Agency, AgencyStatus


def provision(home: Home, sessions: sessionmaker[Session]) -> list[str]:
    """Create everything; return one line per thing created, for the operator."""
    settings = home.settings
    files = trust_files(home)
    init_ca(files, name=settings.trust.ca_name, algorithm=KeyAlgorithm(settings.trust.key_algorithm))
    ca = load_issuing(files)
    policy = issue_policy(home)
    done = [f"provincial CA: {files.root_cert}"]
    with sessions.begin() as session:
        lifecycle.event(session, TrustEventKind.CA_INITIALISED, detail="demo")
        lifecycle.publish(session, files, ca, settings.trust.crl_days)
        hosted = session.scalars(
            select(Agency).where(Agency.gateway == settings.gateway.name, Agency.status == AgencyStatus.ACTIVE.value)
        ).all()
        for agency in hosted:
            if agency.primary_mailbox:
                lifecycle.issue_smime(
                    session, files, ca, policy, agency.organ_id, agency.primary_mailbox, settings.trust.smime_days
                )
        done.append(f"S/MIME certificates: {len(hosted)} agencies")
        lifecycle.issue_tls(session, files, ca, policy, settings.gateway.domain, settings.trust.tls_days)
        done.append(f"TLS certificate: {settings.gateway.domain}")
    for algorithm in (dkim.DkimAlgorithm.ED25519,):
        key = dkim.generate(files.dkim_dir, dkim.default_selector(settings.trust.dkim_selector, algorithm), algorithm)
        done.append(f"DKIM key: {key.dns_record(settings.gateway.domain)[:60]}...")
    return done
