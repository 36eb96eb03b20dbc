from kit.config import _load_dotenv


def test_dotenv_strips_inline_comments_and_quotes(tmp_path):
    env = tmp_path / ".env"
    env.write_text('# comentário\nA=1\nB=auto   # explicação\nC="com # dentro" # fora\nD=\nE=\'x y\'\nsem_igual\n')
    assert _load_dotenv(env) == {"A": "1", "B": "auto", "C": "com # dentro", "D": "", "E": "x y"}
