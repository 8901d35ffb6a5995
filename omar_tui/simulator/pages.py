"""The HTML pages the simulator answers with.

The receipt follows the example of the submission specification (section
3.3, SPEC.md R11) to the letter, whitespace included, because that is the
only shape of a real reply anyone outside CAISO has seen. The other pages
are plausible stand-ins: what matters is that a client can tell a login
page, an error page and a receipt apart.
"""

from __future__ import annotations

from html import escape

_HEAD = (
    "<html>\n<head>\n<title>{title}</title>\n"
    '<meta http-equiv="Content-Type" content="text/html; charset=utf-8">\n'
    "</head>\n<body>\n"
)
_TAIL = "</body>\n</html>\n"


def _page(title: str, body: str) -> bytes:
    return (_HEAD.format(title=escape(title)) + body + _TAIL).encode("utf-8")


def home_page(upload_path: str) -> bytes:
    """The page a browser sees after logging in: the upload form."""
    return _page(
        "OMAR-Online",
        "<h2>OMAR-Online (local simulator)</h2>\n"
        "<p>You are logged in with your digital certificate.</p>\n"
        f'<FORM METHOD="POST" ACTION="{escape(upload_path)}" '
        'ENCTYPE="multipart/form-data">\n'
        "Upload File\n"
        '<INPUT TYPE="FILE" NAME="datafile" SIZE="50">\n'
        '<INPUT TYPE="SUBMIT" VALUE="Upload">\n'
        "</FORM>\n",
    )


def login_page() -> bytes:
    """What a request without a valid session gets: a certificate login form."""
    return _page(
        "OMAR-Online Login",
        "<h2>OMAR-Online Login</h2>\n"
        "<p>Your session has expired or you are not logged in.</p>\n"
        "<p>Please log in with your software digital certificate.</p>\n"
        '<form method="POST" action="j_security_check">\n'
        '<input type="hidden" name="auth" value="certificate">\n'
        '<input type="submit" value="Login with certificate">\n'
        "</form>\n",
    )


def receipt_page(name: str, saved_as: str, size: int, file_id: int) -> bytes:
    """The reply to an accepted file, exactly as in the specification."""
    return _page(
        "OMAR-Online Upload",
        "<table>\n\n"
        "        <tr><td class=formgray>\n\n"
        f"        {escape(name)}  Meter file uploaded and Saved As "
        f"{escape(saved_as)}\n\n"
        "        </td></tr>\n\n"
        f"        <tr><td class=formgray> File Size : {size}\n\n"
        "        </td></tr>\n\n"
        f"        <tr><td class=formgray> File Id: {file_id} (save this file id "
        "for future reference and file status inquiries)\n\n"
        "        </td></tr>\n\n"
        "</table>\n",
    )


def error_page(message: str) -> bytes:
    """The reply to a file that breaks a rule: the reason in plain words."""
    return _page(
        "OMAR-Online Upload Error",
        "<h2>File upload failed</h2>\n"
        f'<p class="error">Error: {escape(message)}</p>\n'
        "<p>The file was not saved. Correct the file and upload it again.</p>\n",
    )


def status_page(title: str, message: str) -> bytes:
    """A plain page for 404, 405, 500 and the like."""
    return _page(title, f"<h2>{escape(title)}</h2>\n<p>{escape(message)}</p>\n")


def no_receipt_page() -> bytes:
    """A normal-looking page that holds no receipt (a fault)."""
    return _page(
        "OMAR-Online",
        "<h2>OMAR-Online</h2>\n"
        "<p>Welcome to OMAR-Online. Please choose an option from the menu.</p>\n"
        "<table><tr><td class=formgray>Meter Data</td></tr></table>\n",
    )
