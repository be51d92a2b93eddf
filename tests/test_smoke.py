from tests.conftest import login


def test_can_a_signed_in_owner_see_the_dashboard(client, company, owner):
    login(client, owner, company)
    response = client.get("/")
    assert response.status_code == 200
    assert company.trade_name in response.get_data(as_text=True)
