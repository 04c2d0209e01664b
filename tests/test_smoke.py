from tests.conftest import login


def test_login_and_see_campaigns(client, users):
    response = login(client, users["marketer"])
    assert response.status_code == 302
    page = client.get("/campaigns/")
    assert page.status_code == 200
    assert "Campaigns" in page.get_data(as_text=True)
