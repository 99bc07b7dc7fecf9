"""The app's exception tree; ``smart_app.web.errors`` maps each branch to a page that tells the user what to do.

P2PError
├── LaunchError             a SMART launch cannot go on
│   ├── IssuerNotAllowed        the ``iss`` is not on the allowlist (never fetched)
│   ├── DiscoveryError          no usable smart-configuration or CapabilityStatement
│   ├── AuthorizationDenied     the EHR's authorize step answered with an ``error``
│   ├── StateMismatch           ``state`` missing, unknown, reused or from another session
│   ├── TokenError              the token exchange or refresh failed
│   │   └── PayerTokenError         a payer's token endpoint refused the practice (``sync --payer``)
│   ├── IdTokenInvalid          the id_token's signature or claims do not verify
│   ├── MissingLaunchContext    the token response names no patient
│   └── SessionExpired          no live launch for this request: relaunch from the chart
├── FhirError
│   ├── FhirUnreachable         network failure or timeout talking to the FHIR server
│   │   └── ResponseTooLarge        an answer past the byte cap (P2P_FHIR_MAX_RESPONSE_BYTES), abandoned unread
│   ├── FhirAuthError           401/403 from the FHIR server
│   └── FhirReadError           any other failed read
│       ├── ChartUnavailable        the records a page needs could not be read: never "not found"
│       └── PayerReadError          a payer's own API gave no usable answer (``sync --payer``)
├── WriteBackError          the EHR refused or could not take the call note (the note is kept)
├── NotFound                a denial that is not in this patient's chart
└── InputError              a file or form the user gave is wrong (CLI exit 1)
    └── LetterUnreadable        a denial letter file that cannot be read (not a PDF or image, damaged, too long, blank)
"""

from __future__ import annotations


class P2PError(Exception):
    """Base of every error the app explains to its user."""

    title = "Something went wrong"
    status = 500
    advice = "Relaunch the app from the patient's chart. If it happens again, tell your EHR administrator."

    def __init__(self, message: str, *, advice: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if advice is not None:
            self.advice = advice


class LaunchError(P2PError):
    title = "The app could not be launched"
    status = 400


class IssuerNotAllowed(LaunchError):
    title = "This EHR is not registered with the app"
    status = 403
    advice = "Ask your administrator to add this FHIR server to P2P_ALLOWED_ISS. The app did not contact it."


class DiscoveryError(LaunchError):
    title = "The EHR's SMART configuration could not be read"
    status = 502
    advice = "Check that the EHR's FHIR server is reachable and supports SMART App Launch, then relaunch."


class UntrustedEndpoint(DiscoveryError):
    title = "This EHR's sign-in points to another server"
    status = 403
    advice = (
        "The app did not send anything there. If your EHR really signs users in on that server, your administrator "
        "adds its origin to P2P_AUTH_ORIGINS; otherwise report this to your EHR's security team."
    )


class AuthorizationDenied(LaunchError):
    title = "The EHR did not authorize the app"
    status = 403
    advice = (
        "Relaunch from the chart and approve the app's access. If access was refused by policy, ask your administrator."
    )


class StateMismatch(LaunchError):
    title = "This sign-in response does not belong to your launch"
    status = 400
    advice = "For your safety the app ignored it. Relaunch the app from the patient's chart."


class TokenError(LaunchError):
    title = "The EHR did not issue an access token"
    status = 502
    advice = "Relaunch the app from the patient's chart. If it happens again, the app's registration may be wrong."


class PayerTokenError(TokenError):
    title = "The payer did not issue an access token"
    advice = (
        "Check the payer registry (P2P_PAYER_REGISTRY): the client id, token endpoint and private key must be the "
        "ones the payer registered for the practice."
    )


class IdTokenInvalid(LaunchError):
    title = "The EHR's identity token could not be verified"
    status = 502
    advice = "The app will not trust an unverified user identity. Relaunch; if it persists, tell your administrator."


class MissingLaunchContext(LaunchError):
    title = "No patient was selected"
    status = 400
    advice = "Open a patient's chart in the EHR and launch the app from there."


class SessionExpired(LaunchError):
    title = "Your session has ended"
    status = 401
    advice = "Relaunch the app from the patient's chart. Nothing you saved was lost."


class FhirError(P2PError):
    title = "The chart could not be read"
    status = 502


class FhirUnreachable(FhirError):
    title = "The EHR's FHIR server did not answer"
    advice = "Try again in a moment. If the EHR is down, the brief cannot be built until it is back."


class ResponseTooLarge(FhirUnreachable):
    title = "The EHR sent more than the app reads in one answer"
    advice = (
        "The app stopped reading it to protect the server it runs on. Ask your administrator whether the EHR is "
        "answering as it should; P2P_FHIR_MAX_RESPONSE_BYTES sets the cap."
    )


class FhirAuthError(FhirError):
    title = "The EHR refused the app's access"
    status = 403
    advice = "Your access may have expired or lacks a permission the app needs. Relaunch from the chart."

    def __init__(self, message: str, *, status_code: int) -> None:
        super().__init__(message)
        self.status_code = status_code


class FhirReadError(FhirError):
    pass


class PayerReadError(FhirReadError):
    title = "The payer's API gave no usable answer"
    advice = "Try again later; if it keeps failing, check the payer registry's FHIR bases with the payer."


class ChartUnavailable(FhirReadError):
    """The search that would have found the record failed (an error answer, no answer in time): the app cannot
    say the record is absent, only that the EHR could not be read."""

    title = "The EHR could not be reached"
    status = 503
    advice = (
        "Nothing you saved in the app was lost. Try again in a minute; if the EHR stays unreachable, "
        "tell your EHR administrator."
    )


class WriteBackError(P2PError):
    title = "The EHR did not accept the call note"
    status = 502
    advice = "The note is saved in the app and will be sent again. You can retry now."

    def __init__(
        self, message: str, *, retryable: bool, status_code: int | None = None, maybe_written: bool = False
    ) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.status_code = status_code
        self.maybe_written = maybe_written  # the request reached the EHR but its answer was lost: look before resending


class NotFound(P2PError):
    title = "Not found"
    status = 404
    advice = "Go back to the patient's denials and choose one from the list."


class PracticeSignInRequired(P2PError):
    title = "The practice's pages need a practice sign-in"
    status = 403
    advice = (
        "A launch from one patient's chart can only see that patient. Open the worklist with a standalone sign-in "
        "(the app's /launch?iss=… link without a patient), which asks the EHR for practice-wide access."
    )


class InputError(P2PError):
    title = "The input is not usable"
    status = 400
    advice = "Correct the input and try again."


class LetterUnreadable(InputError):
    """A denial letter that cannot be read: ``reason`` says what is wrong with it; the message names the file."""

    title = "The letter could not be read"
    advice = (
        "Upload the denial letter as a PDF, or as PNG, JPEG or TIFF pages from the fax; nothing was saved from this "
        "file. You can also type the denial in by hand."
    )

    def __init__(self, reason: str, *, filename: str | None = None) -> None:
        super().__init__(f"{filename}: {reason}" if filename else reason)
        self.reason = reason
        self.filename = filename
