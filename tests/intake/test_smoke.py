from tests.intake.helpers import client_envelope, open_mailbox, plaintext, receipt_from, submit_form


def test_form_and_api_submission_then_mailbox(client, investigator):
    response = submit_form(client, "The mayor took cash for a permit", details="At the town hall")
    assert response.status_code == 201, response.get_data(as_text=True)
    receipt = receipt_from(response.get_data(as_text=True))
    assert "Set-Cookie" not in response.headers
    request_json, _key = client_envelope(client, plaintext("Customs officer asked for money"))
    api = client.post("/api/v1/reports", json=request_json)
    assert api.status_code == 201, api.get_json()
    mailbox = open_mailbox(client, receipt)
    assert mailbox.status_code == 303
    page = client.get("/followup/mailbox")
    assert page.status_code == 200
    assert "still being processed" in page.get_data(as_text=True)
