def test_dbg(review_env):
    env = review_env
    env.nav_case(reference="K27-A-1")
    c = env.client("kari")
    r = c.get("/saker", params={"sok": "ødegård"})
    import re
    print(re.findall(r'id="f-sok".*', r.text))
    print(re.findall(r'<strong>.*?</strong>', r.text)[:3])
