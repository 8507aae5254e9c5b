from bot.uploads import MAX_UPLOAD_BYTES, NOT_TEXT, TOO_LARGE, WRONG_TYPE, refusal_before_download, refusal_of_content, safe_filename, save_upload


def test_safe_file_names(tmp_path):
    assert safe_filename("../../etc/passwd.txt") == "passwd.txt"
    assert safe_filename("..\\..\\bài viết.MD") == "bài-viết.md"
    assert safe_filename(".bashrc.txt") == "bashrc.txt"
    assert safe_filename("") == "bai-viet"
    assert safe_filename("..txt") == "bai-viet.txt"
    assert safe_filename(".txt") == "bai-viet.txt"
    assert safe_filename("tin..MD") == "tin.md"
    first = save_upload(tmp_path, "tin.txt", "Tin một".encode())
    same = save_upload(tmp_path, "tin.txt", "Tin một".encode())
    other = save_upload(tmp_path, "tin.txt", "Tin hai".encode())
    assert (first.name, first.clash, same.same) == ("tin.txt", None, True)
    assert (other.name, other.clash) == ("tin-2.txt", "tin.txt")
    assert (tmp_path / "tin.txt").read_text() == "Tin một"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tin-2.txt", "tin.txt"]


def test_uploads_are_checked_before_and_after_download():
    assert refusal_before_download("bài.txt", 1000) is None
    assert refusal_before_download("bài.pdf", 1000) == WRONG_TYPE
    assert refusal_before_download(None, None) == WRONG_TYPE
    assert refusal_before_download("tin.jsonl", MAX_UPLOAD_BYTES + 1) == TOO_LARGE
    assert refusal_of_content("Tin tức hôm nay".encode()) is None
    assert refusal_of_content("Tin tức".encode("utf-16")) == NOT_TEXT


def test_names_are_judged_as_they_will_be_saved():
    assert refusal_before_download("..txt", 10) is None
    assert refusal_before_download("bài.txt.", 10) == WRONG_TYPE
    assert refusal_before_download("txt", 10) == WRONG_TYPE


def test_the_same_bytes_under_another_name_are_not_saved_again(tmp_path):
    data = "Hội nghị báo cáo viên tháng 12/2023\n\nChiều 28/12, tại Hà Nội...".encode()
    (tmp_path / "2023").mkdir()
    (tmp_path / "2023" / "hoi-nghi.txt").write_bytes(data)
    (tmp_path / ".upload-x.tmp").write_bytes(data)  # a half-written upload is no article
    again = save_upload(tmp_path, "ban-sao.txt", data)
    assert (again.name, again.same) == ("2023/hoi-nghi.txt", True)
    assert not (tmp_path / "ban-sao.txt").exists()
    other = save_upload(tmp_path, "ban-sao.txt", data + " (cập nhật)".encode())
    assert (other.name, other.same) == ("ban-sao.txt", False)
