def test_login_and_home(as_role):
    client = as_role("district")
    assert client.get("/home").status_code == 200
