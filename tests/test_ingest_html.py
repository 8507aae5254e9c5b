"""HTML ingestion on pages laid out as Vietnamese outlets lay them out: the article's own text, in
order, with the page's metadata, and none of the page around it (menus, captions, share bars,
reader comments, related stories, footers)."""

import time
from dataclasses import dataclass, field

import pytest

from retrieval.ingest import ParseError
from retrieval.ingest.html import NO_ARTICLE_BLOCK, parse_html, read_html

# VnExpress-like: menu and breadcrumb, <time> above the headline, the lead outside the body
# <article>, a captioned photo, the reporter's name last, share bar, comments, related list, sidebar.
VNEXPRESS = """<!DOCTYPE html>
<html lang="vi">
<head>
<meta charset="utf-8">
<title>Hà Nội thông xe cầu Vĩnh Tuy 2 - VnExpress</title>
<meta name="description" content="Cầu Vĩnh Tuy giai đoạn 2 thông xe sau gần 3 năm thi công.">
<meta property="og:title" content="Hà Nội thông xe cầu Vĩnh Tuy 2">
<meta property="og:site_name" content="VnExpress">
<meta property="og:url" content="https://vnexpress.net/ha-noi-thong-xe-cau-vinh-tuy-2-4712345.html">
<meta name="pubdate" content="2023-06-30T09:15:00+07:00">
<link rel="canonical" href="https://vnexpress.net/ha-noi-thong-xe-cau-vinh-tuy-2-4712345.html">
<script>window.dataLayer = [{"article": "Bình luận"}];</script>
<style>.title-detail{font-size:32px}</style>
</head>
<body>
<header class="header">
  <a class="logo" href="/">VnExpress</a>
  <nav class="main-nav"><ul><li><a href="/thoi-su">Thời sự</a></li><li><a href="/goc-nhin">Góc nhìn</a></li><li><a href="/the-gioi">Thế giới</a></li><li><a href="/kinh-doanh">Kinh doanh</a></li></ul></nav>
</header>
<section class="section page-detail top-detail">
<div class="container">
<div class="sidebar-1">
  <div class="header-content width_common">
    <ul class="breadcrumb" data-campaign="Header-Breadcrumb"><li><a href="/thoi-su">Thời sự</a></li><li><a href="/thoi-su/giao-thong">Giao thông</a></li></ul>
    <span class="date"><time datetime="2023-06-30T09:15:00+07:00">Thứ sáu, 30/6/2023, 09:15 (GMT+7)</time></span>
  </div>
  <h1 class="title-detail">Hà Nội thông xe cầu Vĩnh Tuy 2</h1>
  <p class="description">Cầu Vĩnh Tuy giai đoạn 2 dài 3,5 km, vốn hơn 2.500 tỷ đồng, thông xe sáng 30/6 sau gần 3 năm thi công.</p>
  <article class="fck_detail">
    <p class="Normal">Sáng 30/6, UBND thành phố Hà Nội tổ chức lễ thông xe cầu Vĩnh Tuy giai đoạn 2, nối quận Hai Bà Trưng với quận Long Biên.</p>
    <figure data-size="true" itemprop="associatedMedia image" class="tplCaption action_thumb_added">
      <div class="fig-picture"><picture><img itemprop="contentUrl" alt="Cầu Vĩnh Tuy 2" src="https://i1-vnexpress.vnecdn.net/2023/06/30/cau-vinh-tuy.jpg"></picture></div>
      <figcaption itemprop="description"><p class="Image">Các phương tiện lưu thông trên cầu Vĩnh Tuy 2 sáng 30/6. Ảnh: Giang Huy</p></figcaption>
    </figure>
    <p class="Normal">Theo Ban quản lý dự án đầu tư xây dựng công trình giao thông Hà Nội, cầu mới song song với cầu hiện hữu, có bốn làn xe ô tô.</p>
    <table class="tplCaption" align="center"><tbody><tr><td><img src="https://i1-vnexpress.vnecdn.net/2023/06/30/mat-cau.jpg"></td></tr>
    <tr><td><p class="Image">Mặt cầu Vĩnh Tuy 2 nhìn từ trên cao.</p></td></tr></tbody></table>
    <p class="Normal">Dự án được kỳ vọng giảm ùn tắc cho cầu Chương Dương và cầu Long Biên vào giờ cao điểm.</p>
    <p class="Normal" style="text-align:right;"><strong>Võ Hải</strong></p>
  </article>
  <div class="footer-content">
    <div class="social_pin"><a class="btn_facebook" href="#">Chia sẻ Facebook</a><a class="btn_twitter" href="#">Twitter</a><a href="#">Copy link</a></div>
    <div class="tags"><h4 class="item-tag"><a href="/chu-de/cau-vinh-tuy">Cầu Vĩnh Tuy</a></h4></div>
  </div>
  <div class="box-comment" id="box_comment_vne">
    <div class="title_box_category"><h3>Ý kiến (12)</h3></div>
    <div class="comment_item"><p class="full_content"><span class="txt-name"><a>Nguyễn Văn Minh</a></span>Cầu đẹp nhưng giờ cao điểm vẫn tắc cứng ở nút Minh Khai, mong thành phố mở thêm lối lên.</p><div class="reactions-total">Thích 25</div></div>
    <div class="comment_item"><p class="full_content"><span class="txt-name"><a>Trần Hoa</a></span>Tôi đi qua sáng nay thấy thông thoáng hơn hẳn, cảm ơn các công nhân đã làm việc ngày đêm.</p></div>
  </div>
  <div class="box-tinlienquan width_common">
    <h3>Tin liên quan</h3>
    <article class="item-news"><h4 class="title-news"><a href="/cau-tran-hung-dao-4700001.html">Cầu Trần Hưng Đạo khởi công cuối năm</a></h4><p class="description"><a href="/cau-tran-hung-dao-4700001.html">Cầu Trần Hưng Đạo bắc qua sông Hồng dự kiến khởi công vào tháng 12, tổng vốn hơn 7.000 tỷ đồng.</a></p></article>
    <article class="item-news"><h4 class="title-news"><a href="/duong-vanh-dai-4-4700002.html">Đường vành đai 4 giải phóng mặt bằng</a></h4><p class="description"><a href="/duong-vanh-dai-4-4700002.html">Các địa phương đã bàn giao 85% mặt bằng cho dự án vành đai 4 vùng Thủ đô.</a></p></article>
  </div>
</div>
<div class="sidebar-2">
  <div class="box-category"><h3>Xem nhiều</h3><ul><li><a href="/x1">Giá xăng giảm lần thứ ba liên tiếp</a></li><li><a href="/x2">Mưa lớn gây ngập nhiều tuyến phố nội thành</a></li></ul></div>
</div>
</div>
</section>
<footer class="footer"><div class="copyright">© Copyright 1997 VnExpress.net, All rights reserved. Báo tiếng Việt nhiều người xem nhất.</div></footer>
</body>
</html>"""

# Tuổi Trẻ-like: og:/article: metadata (article:author a Facebook link, author the paper itself),
# "TTO - " sapo in an <h2> outside the body, an inline related box inside the body, comments after.
TUOITRE = """<!DOCTYPE html>
<html lang="vi">
<head>
<meta charset="utf-8">
<title>Giá lúa gạo tăng mạnh, nông dân miền Tây phấn khởi | Báo Tuổi Trẻ</title>
<meta property="og:site_name" content="Báo Tuổi Trẻ">
<meta property="og:title" content="Giá lúa gạo tăng mạnh, nông dân miền Tây phấn khởi">
<meta property="og:type" content="article">
<meta property="og:url" content="https://tuoitre.vn/gia-lua-gao-tang-manh-20230815104512345.htm">
<meta property="article:published_time" content="2023-08-15T10:45:00+07:00">
<meta property="article:author" content="https://www.facebook.com/baotuoitre">
<meta name="author" content="Báo Tuổi Trẻ">
<meta name="keywords" content="giá lúa, xuất khẩu gạo">
<script type="application/ld+json">{"@type":"NewsArticle","headline":"Giá lúa gạo tăng mạnh"}</script>
</head>
<body>
<div class="header__nav"><ul class="menu-nav"><li><a href="/thoi-su.htm">Thời sự</a></li><li><a href="/kinh-doanh.htm">Kinh doanh</a></li><li><a href="/the-gioi.htm">Thế giới</a></li></ul></div>
<div class="detail__section">
 <div class="detail__cmain">
  <div class="detail-top"><div class="detail-cate"><a href="/kinh-doanh.htm" title="Kinh doanh">Kinh doanh</a></div>
  <div class="detail-time"><div data-role="publishdate">15/08/2023 10:45 GMT+7</div></div></div>
  <h1 class="detail-title article-title" data-role="title">Giá lúa gạo tăng mạnh, nông dân miền Tây phấn khởi</h1>
  <div class="detail-author"><a class="name" href="/tac-gia/chi-cong.htm" title="Chí Công">Chí Công</a></div>
  <h2 class="detail-sapo" data-role="sapo">TTO - Giá lúa tại Đồng bằng sông Cửu Long tăng thêm 500 - 700 đồng/kg so với tuần trước, mức cao nhất trong nhiều năm.</h2>
  <div class="detail-cmain">
   <div class="detail-content afcbc-body" data-role="content" itemprop="articleBody">
    <p>Ghi nhận tại An Giang, Đồng Tháp ngày 15/8, thương lái thu mua lúa tươi với giá 8.200 - 8.500 đồng/kg.</p>
    <figure class="VCSortableInPreviewMode" type="Photo"><div><img src="https://cdn.tuoitre.vn/lua.jpg" alt="Thu hoạch lúa"></div>
     <figcaption class="PhotoCMS_Caption"><p data-placeholder="Nhập chú thích ảnh">Nông dân Đồng Tháp thu hoạch lúa hè thu - Ảnh: CHÍ CÔNG</p></figcaption></figure>
    <p>Ông Nguyễn Văn Tư, nông dân xã Tân Hòa, cho biết với giá này mỗi công ruộng lãi khoảng 3 triệu đồng.</p>
    <div type="RelatedOneNews" class="VCSortableInPreviewMode"><div class="kbwscwl-relatedbox"><a href="/xuat-khau-gao-2023.htm" title="Xuất khẩu gạo lập kỷ lục">Xuất khẩu gạo lập kỷ lục</a><p class="sapo">Bảy tháng đầu năm, Việt Nam xuất khẩu hơn 5 triệu tấn gạo, thu về 2,7 tỉ USD.</p></div></div>
    <p>Hiệp hội Lương thực Việt Nam dự báo giá gạo xuất khẩu còn đứng ở mức cao đến cuối năm.</p>
   </div>
  </div>
  <div class="detail-tab"><div class="box-relate"><div class="title">Tin liên quan</div></div></div>
  <div class="detail__tags"><span>Từ khóa:</span><a href="/gia-lua.html">giá lúa</a><a href="/xuat-khau-gao.html">xuất khẩu gạo</a></div>
  <div class="detail__share"><a class="fb" href="#">Chia sẻ</a><a class="zalo" href="#">Zalo</a></div>
  <section class="comment-wrapper" id="commentBox">
    <div class="title-comment">Bình luận (3)</div>
    <ul class="lstcommentpopup"><li class="item-comment"><div class="contentcomment">Giá lúa tăng nhưng giá phân bón cũng tăng gấp đôi, nông dân vẫn chưa thật sự có lãi.</div><span class="name">Lê Thành</span></li></ul>
  </section>
  <div class="box-category-related"><div class="box-category-title">Đọc thêm</div>
   <div class="box-category-item"><h3><a href="/gia-ca-phe.htm">Giá cà phê lập đỉnh mới</a></h3><p class="box-category-sapo">Giá cà phê Tây Nguyên vượt 70.000 đồng/kg, cao nhất lịch sử.</p></div>
  </div>
 </div>
</div>
<div class="footer"><p>Cơ quan chủ quản: Thành Đoàn TP.HCM. Tổng biên tập: Lê Thế Chữ.</p><p>Giấy phép hoạt động báo điện tử số 561/GP-BTTTT</p></div>
</body>
</html>"""

# A wire (TTXVN) page: no canonical URL, a <time>, a share line, and the byline "Name (TTXVN)".
WIRE = """<html>
<head>
<meta http-equiv="Content-Type" content="text/html; charset=utf-8">
<title>Hội nghị báo cáo viên tháng 12/2023 | Báo Tin tức - TTXVN</title>
<meta property="og:site_name" content="Báo Tin tức">
<meta property="og:title" content="Hội nghị báo cáo viên cấp Đảng ủy Khối các cơ quan Trung ương tháng 12/2023">
<meta name="author" content="TTXVN">
</head>
<body>
<div id="top-menu"><a href="/">Trang chủ</a> | <a href="/chinh-tri.htm">Chính trị</a> | <a href="/xa-hoi.htm">Xã hội</a></div>
<div class="main">
 <div class="detail-left">
  <div class="breadcrumbs"><a href="/">Trang chủ</a> » <a href="/chinh-tri.htm">Chính trị</a></div>
  <h1 class="detail-title">Hội nghị báo cáo viên cấp Đảng ủy Khối các cơ quan Trung ương tháng 12/2023</h1>
  <div class="date-time"><time datetime="2023-12-28T17:30:00+07:00">28/12/2023 17:30</time></div>
  <div class="sharing"><span>Chia sẻ:</span> <a href="#">Facebook</a> <a href="#">Zalo</a> <a href="#">In bài</a></div>
  <div class="contents">
   <p><strong>Chiều 28/12, tại Hà Nội, Đảng ủy Khối các cơ quan Trung ương tổ chức Hội nghị báo cáo viên tháng 12/2023.</strong></p>
   <p>Tại hội nghị, các đại biểu được nghe thông tin về kết quả Hội nghị Trung ương 8 khóa XIII và tình hình kinh tế - xã hội năm 2023.</p>
   <p>Phát biểu tại hội nghị, đồng chí Phó Bí thư Đảng ủy Khối đề nghị các báo cáo viên bám sát thực tiễn, kịp thời định hướng tư tưởng cho cán bộ, đảng viên.</p>
   <p style="text-align: right;"><strong>Diệp Trương (TTXVN)</strong></p>
  </div>
  <div class="tin-lien-quan"><h3>Tin liên quan</h3>
   <ul><li><a href="/quan-triet-cuon-sach.htm">Đảng ủy Khối các cơ quan Trung ương quán triệt, tuyên truyền nội dung cuốn sách của Tổng Bí thư</a><p>Sáng 14/11, tại Hà Nội, Đảng ủy Khối các cơ quan Trung ương tổ chức hội nghị quán triệt nội dung cuốn sách.</p></li></ul>
  </div>
 </div>
 <div class="detail-right"><div class="box-docnhieu"><h3>Đọc nhiều</h3><ul><li><a href="/a">Thời tiết Tết Dương lịch: miền Bắc rét đậm</a></li></ul></div></div>
</div>
<div id="footer"><p>Các đơn vị thông tin của TTXVN</p><p>Bản quyền thuộc về Thông tấn xã Việt Nam. Địa chỉ: 79 Lý Thường Kiệt, Hà Nội.</p></div>
</body>
</html>"""

# A magazine long read: kicker, credits, sapo, subheading, pull quote, captions in <figcaption>.
MAGAZINE = """<!doctype html>
<html lang="vi">
<head>
<meta charset="utf-8">
<title>Người giữ lửa nghề gốm Bát Tràng - Tạp chí Heritage</title>
<meta property="og:title" content="Người giữ lửa nghề gốm Bát Tràng">
<meta property="og:site_name" content="Tạp chí Heritage">
<meta property="og:url" content="https://heritage.example.vn/nguoi-giu-lua-nghe-gom-bat-trang">
<meta property="article:published_time" content="2024-02-10">
<meta property="article:author" content="Thu Hà">
</head>
<body class="longform">
<div class="site-header"><div class="menu"><a href="/">Trang chủ</a><a href="/van-hoa">Văn hóa</a><a href="/du-lich">Du lịch</a></div></div>
<main>
 <article class="emagazine">
  <header class="story-header">
   <p class="kicker">Di sản</p>
   <h1>Người giữ lửa nghề gốm Bát Tràng</h1>
   <p class="byline">Bài: Thu Hà · Ảnh: Minh Đức</p>
  </header>
  <div class="story-body">
   <p class="sapo">Hơn 40 năm bên bàn xoay, nghệ nhân Trần Văn Độ vẫn tự tay nhào đất, chuốt men như thuở mới vào nghề.</p>
   <figure class="image full"><img src="/img/gom1.jpg" alt=""><figcaption>Nghệ nhân Trần Văn Độ bên lò gốm của gia đình. Ảnh: Minh Đức</figcaption></figure>
   <p>Xưởng gốm của ông Độ nằm sâu trong một con ngõ nhỏ ở làng Bát Tràng, huyện Gia Lâm.</p>
   <h2>Giữ men cổ</h2>
   <p>Ông kể men rạn cổ phải nung ở nhiệt độ chính xác, chỉ lệch vài chục độ là cả mẻ hỏng.</p>
   <blockquote><p>Làm gốm là làm với lửa, không được vội.</p></blockquote>
   <figure class="image"><img src="/img/gom2.jpg" alt=""><figcaption class="caption">Những chiếc bình men rạn vừa ra lò. Ảnh: Minh Đức</figcaption></figure>
   <p>Hiện ông truyền nghề cho hai người con và hơn chục thợ trẻ trong làng.</p>
  </div>
  <div class="share-bar"><a href="#">Chia sẻ bài viết</a><a href="#">Facebook</a></div>
 </article>
 <aside class="related-posts"><h3>Bài cùng chuyên mục</h3><div class="post"><a href="/lang-lua-van-phuc">Làng lụa Vạn Phúc giữ nghề</a><p>Những khung cửi ở Vạn Phúc vẫn đều đặn vang tiếng thoi đưa mỗi sáng.</p></div></aside>
</main>
<footer><p>Tạp chí Heritage - Giấy phép số 123/GP-BTTTT</p></footer>
</body>
</html>"""

# Dân trí-like: a "Bình luận (5)" link in the toolbar under the headline (not the article's end), an
# inline "Xem thêm:" link and related box inside the body, a data table, comments and related after.
DANTRI = """<!DOCTYPE html>
<html lang="vi">
<head>
<meta charset="UTF-8">
<title>Hơn 1 triệu thí sinh đăng ký thi tốt nghiệp THPT 2024 | Báo Dân trí</title>
<meta property="og:site_name" content="Báo điện tử Dân Trí">
<meta property="og:title" content="Hơn 1 triệu thí sinh đăng ký thi tốt nghiệp THPT 2024">
<link rel="canonical" href="https://dantri.com.vn/giao-duc/hon-1-trieu-thi-sinh-dang-ky-thi-20240520080000123.htm">
<meta name="author" content="Báo Dân trí">
</head>
<body>
<header class="site-header"><div class="menu-wrap"><ol class="menu"><li><a href="/xa-hoi.htm">Xã hội</a></li><li><a href="/giao-duc.htm">Giáo dục</a></li><li><a href="/suc-khoe.htm">Sức khỏe</a></li></ol></div>
<div class="header-date">Thứ hai, 20/05/2024</div></header>
<main class="body">
<div class="grid-container">
<article class="singular-container">
  <ul class="dt-text-black-mine breadcrumbs"><li><a href="/giao-duc.htm">Giáo dục</a></li><li><a href="/giao-duc/tuyen-sinh.htm">Tuyển sinh</a></li></ul>
  <h1 class="title-page detail">Hơn 1 triệu thí sinh đăng ký thi tốt nghiệp THPT 2024</h1>
  <div class="author-wrap">
    <div class="author-name"><a href="/tac-gia/hoai-nam.htm"><b>Hoài Nam</b></a></div>
    <time class="author-time" datetime="2024-05-20 08:00">Thứ hai, 20/05/2024 - 08:00</time>
  </div>
  <div class="toolbar"><a class="comment-count" href="#comment">Bình luận (5)</a><a class="share" href="#">Chia sẻ</a></div>
  <h2 class="singular-sapo">(Dân trí) - Bộ Giáo dục và Đào tạo cho biết cả nước có hơn 1,07 triệu thí sinh đăng ký dự thi tốt nghiệp THPT năm 2024.</h2>
  <div class="singular-content">
    <p>Theo thống kê của Bộ, số thí sinh đăng ký tăng khoảng 50.000 em so với năm 2023.</p>
    <p>Trong đó, tỷ lệ thí sinh chọn bài thi khoa học xã hội chiếm hơn 63%, cao nhất từ trước đến nay.</p>
    <figure class="image align-center"><img src="/thi-sinh.jpg" alt="Thí sinh"><figcaption><p>Thí sinh làm thủ tục dự thi năm 2023 (Ảnh: Mạnh Quân).</p></figcaption></figure>
    <p><strong>Xem thêm:</strong> <a href="/diem-chuan-2023.htm">Điểm chuẩn đại học năm 2023 tăng nhẹ</a></p>
    <div class="related-news-inline"><a href="/lich-thi-2024.htm">Lịch thi tốt nghiệp THPT 2024 chính thức</a><p>Kỳ thi diễn ra trong hai ngày 27 và 28/6 trên cả nước, với bốn bài thi bắt buộc.</p></div>
    <p>Kỳ thi tốt nghiệp THPT năm nay diễn ra ngày 27 và 28/6, kết quả được công bố vào ngày 17/7.</p>
    <table class="table-data"><tbody><tr><td>Năm</td><td>Số thí sinh</td></tr><tr><td><p>2023</p></td><td><p>1.024.063</p></td></tr><tr><td>2024</td><td>1.071.393</td></tr></tbody></table>
    <p>Thí sinh có thể điều chỉnh nguyện vọng xét tuyển đại học từ ngày 18/7 đến 30/7.</p>
  </div>
  <div class="singular-footer"><div class="tags-wrap"><span>Từ khóa:</span><a href="/tag/thi-tot-nghiep.htm">thi tốt nghiệp</a></div></div>
</article>
<section class="article-comments" id="comment">
  <div class="comment-title">Bình luận (5)</div>
  <div class="comment-item"><p class="comment-content">Con tôi năm nay thi, áp lực lắm, mong đề thi vừa sức với các em.</p></div>
</section>
<section class="article-related">
  <h3 class="title">Tin liên quan</h3>
  <article class="article-item"><h3 class="article-title"><a href="/x.htm">Học sinh Hà Nội được nghỉ hè sớm</a></h3><div class="article-excerpt">Các trường học tại Hà Nội kết thúc năm học trước ngày 31/5 theo hướng dẫn của Sở.</div></article>
</section>
</div>
</main>
<footer class="footer"><p>Cơ quan chủ quản: Bộ Lao động - Thương binh và Xã hội</p><p>© Bản quyền thuộc về Báo điện tử Dân trí.</p></footer>
</body>
</html>"""

# A short item from a small site: no <h1>, no og: tags; title from <title>, date from JSON-LD.
BRIEF = """<html>
<head>
<title>Giá vàng SJC giảm 500.000 đồng mỗi lượng - Báo Kinh tế Đô thị</title>
<script type="application/ld+json">{"@context":"https://schema.org","@type":"NewsArticle","headline":"Giá vàng SJC giảm 500.000 đồng mỗi lượng","datePublished":"2024-04-12T09:30:00+07:00"}</script>
</head>
<body>
<div class="top-bar">Trang chủ | Kinh tế | Tài chính</div>
<div class="content-wrap">
<div class="post">
<p>Sáng 12/4, giá vàng miếng SJC giảm 500.000 đồng mỗi lượng ở cả hai chiều mua và bán.</p>
<p>Giá bán ra còn 82,5 triệu đồng một lượng.</p>
</div>
</div>
<div class="bottom">Bản quyền thuộc Báo Kinh tế Đô thị</div>
</body>
</html>"""



# Thanh Niên-like: a comment count in the share bar under the headline, an inline related box.
THANHNIEN = """<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8">
<title>TP.HCM khởi công tuyến metro số 2 Bến Thành - Tham Lương</title>
<meta property="og:site_name" content="Báo Thanh Niên">
<meta property="og:title" content="TP.HCM khởi công tuyến metro số 2 Bến Thành - Tham Lương">
<meta property="article:published_time" content="2024-01-15T07:30:00+07:00">
<meta property="og:url" content="https://thanhnien.vn/tphcm-khoi-cong-metro-so-2-185240115073000123.htm">
</head><body>
<div class="header"><ul class="menu"><li><a href="/thoi-su.htm">Thời sự</a></li><li><a href="/the-gioi.htm">Thế giới</a></li><li><a href="/kinh-te.htm">Kinh tế</a></li><li><a href="/doi-song.htm">Đời sống</a></li></ul></div>
<div class="detail-container">
<div class="detail-cate"><a href="/thoi-su.htm">Thời sự</a> <a href="/thoi-su/dan-sinh.htm">Dân sinh</a></div>
<h1 class="detail-title"><span data-role="title">TP.HCM khởi công tuyến metro số 2 Bến Thành - Tham Lương</span></h1>
<div class="detail-info"><div class="detail-author"><a class="name" href="/tac-gia/dinh-huy.htm">Đình Huy</a></div><div class="detail-time"><div data-role="publishdate">15/01/2024 07:30 GMT+7</div></div></div>
<div class="detail-share"><a href="#">Chia sẻ</a><a href="#">Facebook</a><a href="#">Zalo</a><a class="comment-count" href="#box-comment">Bình luận (8)</a></div>
<h2 class="detail-sapo" data-role="sapo">Sáng nay, TP.HCM tổ chức lễ khởi công tuyến metro số 2 dài 11,3 km với tổng vốn đầu tư hơn 47.800 tỉ đồng.</h2>
<div class="detail-cmain"><div class="detail-content afcbc-body" data-role="content">
<p>Tuyến metro số 2 có 9 ga ngầm và 1 ga trên cao, đi qua các quận 1, 3, 10, Tân Bình và 12.</p>
<figure class="VCSortableInPreviewMode" type="Photo"><div><img src="/metro.jpg"></div><figcaption class="PhotoCMS_Caption"><p>Phối cảnh ga Bến Thành của tuyến metro số 2 - ẢNH: BQL</p></figcaption></figure>
<p>Theo Ban Quản lý đường sắt đô thị, dự án phấn đấu hoàn thành và đưa vào khai thác năm 2030.</p>
<div type="RelatedOneNews" class="VCSortableInPreviewMode"><div class="related-box"><a href="/metro-so-1.htm">Metro số 1 chạy thử toàn tuyến</a><p>Tuyến metro Bến Thành - Suối Tiên chạy thử nghiệm toàn tuyến với 17 đoàn tàu trong tháng này.</p></div></div>
<p>Người dân sống dọc tuyến bày tỏ mong đợi công trình sớm hoàn thành để giảm ùn tắc giao thông.</p>
</div></div>
<div class="detail-tags"><span>Từ khóa:</span> <a href="/metro.html">metro</a> <a href="/tphcm.html">TP.HCM</a></div>
<div class="box-comment" id="box-comment"><div class="title">Bình luận (8)</div>
<div class="item-comment"><p class="text-comment">Chờ mãi cuối cùng cũng khởi công, mong đừng chậm tiến độ như tuyến số 1 nữa.</p><span class="name">Hoàng Long</span></div></div>
<div class="detail-related"><h3 class="box-title">Tin liên quan</h3><div class="box-item"><h3><a href="/cau-thu-thiem-4.htm">Cầu Thủ Thiêm 4 được đầu tư hơn 5.000 tỉ đồng</a></h3><p class="sapo">Cầu Thủ Thiêm 4 nối quận 7 với TP.Thủ Đức dự kiến khởi công trong năm nay.</p></div></div>
</div>
<div class="footer"><p>Tổng Biên tập: Nguyễn Ngọc Toàn</p><p>Giấy phép số 248/GP-BTTTT</p></div>
</body></html>"""

# VietNamNet-like: date in JSON-LD only, a boxed related link inside the body, "Tin nổi bật" after.
VIETNAMNET = """<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8">
<title>Nắng nóng kỷ lục, nhu cầu điện miền Bắc tăng vọt | Báo VietNamNet</title>
<meta property="og:site_name" content="Báo VietNamNet">
<meta property="og:title" content="Nắng nóng kỷ lục, nhu cầu điện miền Bắc tăng vọt">
<link rel="canonical" href="https://vietnamnet.vn/nang-nong-ky-luc-nhu-cau-dien-tang-vot-2281234.html">
<script type="application/ld+json">{"@context":"https://schema.org","@type":"NewsArticle","headline":"Nắng nóng kỷ lục","datePublished":"2024-05-20T06:00:00+07:00","author":{"@type":"Person","name":"Thanh Hùng"}}</script>
</head><body>
<header class="header"><nav class="main-menu"><a href="/thoi-su">Thời sự</a><a href="/kinh-doanh">Kinh doanh</a><a href="/giai-tri">Giải trí</a></nav></header>
<div class="container"><div class="content-detail">
<div class="bread-crumb-detail"><ul><li><a href="/kinh-doanh">Kinh doanh</a></li><li><a href="/kinh-doanh/dau-tu">Đầu tư</a></li></ul><div class="bread-crumb-detail__time">Thứ Hai, 20/05/2024 - 06:00</div></div>
<h1 class="content-detail-title">Nắng nóng kỷ lục, nhu cầu điện miền Bắc tăng vọt</h1>
<h2 class="content-detail-sapo sm-sapo-mb-0">Công suất tiêu thụ điện toàn miền Bắc ngày 19/5 đạt gần 24.000 MW, cao nhất từ trước đến nay.</h2>
<div class="maincontent main-content" id="maincontent">
<p>Theo Trung tâm Điều độ hệ thống điện quốc gia, sản lượng điện tiêu thụ tăng 12% so với cùng kỳ năm ngoái.</p>
<p>Các nhà máy thủy điện lớn như Hòa Bình, Sơn La đang vận hành gần hết công suất để đáp ứng nhu cầu.</p>
<figure class="image vnn-content-image"><img src="/dien.jpg" alt="Điện"><figcaption>Công nhân điện lực kiểm tra đường dây trong nắng nóng. Ảnh: EVN</figcaption></figure>
<div class="vnn-box-related"><h3><a href="/tiet-kiem-dien.html">EVN kêu gọi tiết kiệm điện giờ cao điểm</a></h3></div>
<p>EVN khuyến cáo người dân sử dụng điện tiết kiệm, nhất là trong khung giờ từ 13h đến 15h.</p>
<p style="text-align: right;"><strong>Thanh Hùng</strong></p>
</div>
<div class="article-detail-tag"><a href="/tag/nang-nong">nắng nóng</a><a href="/tag/evn">EVN</a></div>
<div class="box-news-related"><div class="box-title"><h2>Tin nổi bật</h2></div><div class="item"><h3><a href="/gia-dien.html">Giá điện sinh hoạt có thể tăng từ tháng 6</a></h3><p>Bộ Công Thương đang lấy ý kiến về phương án điều chỉnh giá điện bình quân.</p></div></div>
</div></div>
<footer><p>© 1997 Báo VietNamNet. Tòa soạn: Tòa nhà C'Land, 156 Xã Đàn, Hà Nội</p></footer>
</body></html>"""

# VOV-like: "VOV.VN - " lead in its own block, a boxed "Xem thêm" list between two paragraphs of the
# body (only the box goes), the reporter "Minh Hà/VOV.VN" last, "Tin cùng chuyên mục" after.
VOV = """<!DOCTYPE html><html><head><meta charset="utf-8">
<title>Xuất khẩu cà phê 4 tháng đạt gần 2,5 tỷ USD | VOV.VN</title>
<meta property="og:site_name" content="Báo điện tử VOV">
<meta property="og:title" content="Xuất khẩu cà phê 4 tháng đạt gần 2,5 tỷ USD">
<meta name="pubdate" content="2024-05-03T10:15:00+07:00">
<meta property="og:type" content="article">
</head><body>
<div class="nav-bar"><a href="/chinh-tri">Chính trị</a> <a href="/kinh-te">Kinh tế</a> <a href="/the-thao">Thể thao</a></div>
<div class="layout-main"><div class="col-left">
<div class="article-header"><div class="article-cate"><a href="/kinh-te">Kinh tế</a></div>
<h1 class="article-title">Xuất khẩu cà phê 4 tháng đạt gần 2,5 tỷ USD</h1>
<div class="article-meta"><span class="time">Thứ Sáu, 10:15, 03/05/2024</span></div></div>
<div class="row article-summary"><div class="text-long"><p>VOV.VN - Bốn tháng đầu năm, cả nước xuất khẩu khoảng 800.000 tấn cà phê, thu về gần 2,5 tỷ USD.</p></div></div>
<div class="row article-content"><div class="text-long">
<p>So với cùng kỳ năm trước, lượng xuất khẩu giảm 10% nhưng giá trị tăng tới 40% nhờ giá cà phê tăng cao.</p>
<p>Giá cà phê robusta xuất khẩu bình quân đạt khoảng 3.200 USD mỗi tấn, mức cao nhất trong nhiều năm.</p>
<div class="article-related-inline"><p><strong>Xem thêm</strong></p><ul><li><a href="/gia-ca-phe-hom-nay.vov">Giá cà phê hôm nay lập đỉnh mới</a></li></ul></div>
<p>Các doanh nghiệp dự báo nguồn cung cà phê sẽ tiếp tục khan hiếm đến cuối niên vụ.</p>
<p class="article-author" style="text-align:right"><strong>Minh Hà/VOV.VN</strong></p>
</div></div>
<div class="article-tags"><span>Tags:</span> <a href="/tag/ca-phe">cà phê</a></div>
<div class="box-related"><div class="title">Tin cùng chuyên mục</div><ul><li><a href="/lua-gao.vov">Giá lúa gạo tăng mạnh</a><p>Giá lúa tại miền Tây tăng thêm 500 đồng mỗi kg so với tuần trước.</p></li></ul></div>
</div><div class="col-right"><div class="most-read"><h4>Đọc nhiều</h4><a href="/a.vov">Thời tiết nắng nóng gay gắt</a></div></div></div>
<footer class="footer"><p>Cơ quan chủ quản: Đài Tiếng nói Việt Nam</p></footer>
</body></html>"""

# Znews-like: kicker and author inside the article header, a photo in a caption table.
ZNEWS = """<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8">
<title>Tuyển Việt Nam triệu tập 30 cầu thủ cho vòng loại World Cup - Znews.vn</title>
<meta property="og:title" content="Tuyển Việt Nam triệu tập 30 cầu thủ cho vòng loại World Cup">
<meta property="og:site_name" content="ZNEWS.VN">
<meta property="article:published_time" content="2024-03-11T15:00:00+07:00">
<meta property="og:url" content="https://znews.vn/tuyen-viet-nam-trieu-tap-30-cau-thu-post1456789.html">
</head><body>
<div id="site-header"><nav class="category-menu"><a href="/xuat-ban.html">Xuất bản</a><a href="/kinh-doanh-tai-chinh.html">Kinh doanh</a><a href="/the-thao.html">Thể thao</a></nav></div>
<div id="page-article"><article class="the-article">
<header class="the-article-header"><p class="the-article-category"><a href="/the-thao.html">Thể thao</a></p>
<h1 class="the-article-title">Tuyển Việt Nam triệu tập 30 cầu thủ cho vòng loại World Cup</h1>
<ul class="the-article-meta"><li class="the-article-author"><a href="/tac-gia/minh-khoi.html">Minh Khôi</a></li><li class="the-article-publish">15:00 11/3/2024</li></ul></header>
<section class="main"><p class="the-article-summary">Huấn luyện viên Philippe Troussier công bố danh sách 30 cầu thủ chuẩn bị cho hai trận gặp Indonesia.</p>
<div class="the-article-body">
<p>Danh sách có sự trở lại của tiền vệ Nguyễn Quang Hải sau thời gian thi đấu tại Pháp.</p>
<table class="picture" align="center"><tbody><tr><td class="pic"><img src="/quang-hai.jpg"></td></tr><tr><td class="pCaption caption"><p>Quang Hải trở lại đội tuyển. Ảnh: VFF.</p></td></tr></tbody></table>
<p>Đội tuyển sẽ hội quân tại Hà Nội vào ngày 14/3 trước khi sang Indonesia thi đấu lượt đi.</p>
<p>Trận lượt về diễn ra trên sân Mỹ Đình ngày 26/3.</p>
</div>
<p class="the-article-credit"><span class="author">Minh Khôi</span></p>
<div class="the-article-tags"><strong>Chủ đề:</strong> <a href="/tieu-diem/dt-viet-nam.html">ĐT Việt Nam</a></div>
</section></article>
<section id="comment-section"><h3>Bình luận</h3><div class="comment"><p>Hy vọng đội tuyển lấy lại phong độ sau chuỗi trận thua vừa qua.</p></div></section>
<section class="article-related"><p class="section-title">Đọc tiếp</p><article class="article-item"><p class="article-title"><a href="/x.html">Indonesia nhập tịch thêm ba cầu thủ</a></p><p class="article-summary">Liên đoàn bóng đá Indonesia hoàn tất thủ tục nhập tịch cho ba cầu thủ gốc Hà Lan.</p></article></section>
</div>
<div id="site-footer"><p>Giấy phép báo điện tử số 63/GP-BTTTT</p></div>
</body></html>"""

# An old government portal: the page laid out with nested tables, no <h1>, paragraphs split by <br>,
# the date printed as "Ngày đăng: 05/01/2024".
PORTAL = """<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8">
<title>Tỉnh tổ chức Hội nghị tổng kết công tác năm 2023</title></head>
<body><table width="100%"><tr><td colspan="2"><a href="/">Trang chủ</a> | <a href="/gioi-thieu">Giới thiệu</a> | <a href="/tin-tuc">Tin tức</a> | <a href="/van-ban">Văn bản</a></td></tr>
<tr><td width="200" valign="top"><a href="/lien-ket">Liên kết website</a><br><a href="/thu-tuc">Thủ tục hành chính</a></td>
<td valign="top"><table><tr><td class="title"><b>Tỉnh tổ chức Hội nghị tổng kết công tác năm 2023</b></td></tr>
<tr><td class="date">Ngày đăng: 05/01/2024</td></tr>
<tr><td class="content">Sáng 5/1, Ủy ban nhân dân tỉnh tổ chức Hội nghị tổng kết công tác năm 2023 và triển khai nhiệm vụ năm 2024.<br><br>Năm 2023, tăng trưởng kinh tế của tỉnh đạt 7,2%, thu ngân sách vượt 15% dự toán được giao.<br><br>Hội nghị đề ra mục tiêu tăng trưởng năm 2024 đạt từ 7,5% trở lên.</td></tr>
<tr><td class="other"><b>Các tin khác</b><br><a href="/t1">Tỉnh đón nhận Huân chương Lao động hạng Nhất</a><br><a href="/t2">Khai mạc Hội chợ Xuân 2024</a></td></tr></table></td></tr>
<tr><td colspan="2">Bản quyền thuộc Cổng thông tin điện tử tỉnh. Địa chỉ: 02 Trần Phú</td></tr></table></body></html>"""

# Người Lao Động-like: "(NLĐO) - " sapo, a boxed "ĐỌC THÊM" inside the body, "Ý kiến bạn đọc" after.
NLD = """<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8">
<title>Công nhân được hỗ trợ tiền thuê nhà thêm 6 tháng - Báo Người Lao Động</title>
<meta property="og:site_name" content="Báo Người Lao Động">
<meta property="og:title" content="Công nhân được hỗ trợ tiền thuê nhà thêm 6 tháng">
<meta property="article:published_time" content="2024-02-22T19:45:00+07:00">
<meta name="author" content="Báo Người Lao Động">
<link rel="canonical" href="https://nld.com.vn/cong-nhan-duoc-ho-tro-tien-thue-nha-196240222194500000.htm">
</head><body>
<div class="header-menu"><a href="/thoi-su.htm">Thời sự</a><a href="/cong-doan.htm">Công đoàn</a><a href="/quoc-te.htm">Quốc tế</a></div>
<div class="detail-main">
<h1 class="title-content" data-role="title">Công nhân được hỗ trợ tiền thuê nhà thêm 6 tháng</h1>
<div class="author-info"><span class="author-name">Nam Dương</span><span class="date-time" data-role="publishdate">22-02-2024 - 19:45</span></div>
<h2 class="sapo-detail" data-role="sapo">(NLĐO) - Chính phủ quyết định kéo dài chính sách hỗ trợ tiền thuê nhà cho công nhân thêm 6 tháng, đến hết tháng 6/2024.</h2>
<div class="detail-content afcbc-body" data-role="content">
<p>Mức hỗ trợ là 500.000 đồng mỗi người mỗi tháng đối với lao động đang làm việc trong doanh nghiệp.</p>
<p>Người lao động quay trở lại thị trường lao động được hỗ trợ 1 triệu đồng mỗi tháng.</p>
<div class="VCSortableInPreviewMode" type="RelatedNewsBox"><div class="kbwscwl-relatedbox"><strong class="kbwscwl-title">ĐỌC THÊM</strong><ul><li><a href="/luong-toi-thieu.htm">Lương tối thiểu vùng tăng 6% từ tháng 7</a></li></ul></div></div>
<p>Liên đoàn Lao động TP.HCM cho biết sẽ phối hợp với doanh nghiệp để lập danh sách chi trả kịp thời.</p>
</div>
<div class="detail-tag"><span>Từ khóa:</span><a href="/nha-tro.htm">nhà trọ</a></div>
<div class="box-comment"><div class="title">Ý kiến bạn đọc</div><div class="cmt-item"><p>Số tiền hỗ trợ còn ít so với giá thuê phòng trọ hiện nay ở TP.HCM.</p></div></div>
<div class="box-doc-them"><div class="title">Tin liên quan</div><div class="item"><a href="/x.htm">Công nhân vất vả tìm nhà trọ giá rẻ</a><p>Giá phòng trọ tại các khu công nghiệp tăng 10-20% sau Tết.</p></div></div>
</div>
<div class="footer">Tổng Biên tập: Tô Đình Tuân. Giấy phép số 115/GP-BTTTT</div>
</body></html>"""


@dataclass
class Page:
    html: str
    title: str
    date: str | None
    source: str | None
    author: str | None
    url: str | None
    body: list[str]  # the article's paragraphs, in order
    absent: list[str] = field(default_factory=list)  # page text that is not the article


PAGES = {
    "vnexpress": Page(
        VNEXPRESS,
        title="Hà Nội thông xe cầu Vĩnh Tuy 2",
        date="2023-06-30",
        source="VnExpress",
        author="Võ Hải",
        url="https://vnexpress.net/ha-noi-thong-xe-cau-vinh-tuy-2-4712345.html",
        body=[
            "Cầu Vĩnh Tuy giai đoạn 2 dài 3,5 km, vốn hơn 2.500 tỷ đồng, thông xe sáng 30/6 sau gần 3 năm thi công.",
            "Sáng 30/6, UBND thành phố Hà Nội tổ chức lễ thông xe cầu Vĩnh Tuy giai đoạn 2, nối quận Hai Bà Trưng với quận Long Biên.",
            "Theo Ban quản lý dự án đầu tư xây dựng công trình giao thông Hà Nội, cầu mới song song với cầu hiện hữu, có bốn làn xe ô tô.",
            "Dự án được kỳ vọng giảm ùn tắc cho cầu Chương Dương và cầu Long Biên vào giờ cao điểm.",
        ],
        absent=[
            "Góc nhìn", "Thời sự", "Thứ sáu", "Các phương tiện lưu thông", "Giang Huy", "nhìn từ trên cao", "Chia sẻ", "Copy link",
            "Ý kiến", "Nguyễn Văn Minh", "tắc cứng", "Tôi đi qua sáng nay", "Tin liên quan", "Cầu Trần Hưng Đạo",
            "Các địa phương đã bàn giao", "Xem nhiều", "Giá xăng", "Copyright", "Võ Hải",
        ],
    ),
    "tuoitre": Page(
        TUOITRE,
        title="Giá lúa gạo tăng mạnh, nông dân miền Tây phấn khởi",
        date="2023-08-15",
        source="TTO",  # named by the text itself; og:site_name only fills in when the text names none
        author="Chí Công",  # the page's author element; article:author is a link, meta author the paper
        url="https://tuoitre.vn/gia-lua-gao-tang-manh-20230815104512345.htm",
        body=[
            "Giá lúa tại Đồng bằng sông Cửu Long tăng thêm 500 - 700 đồng/kg so với tuần trước, mức cao nhất trong nhiều năm.",
            "Ghi nhận tại An Giang, Đồng Tháp ngày 15/8, thương lái thu mua lúa tươi với giá 8.200 - 8.500 đồng/kg.",
            "Ông Nguyễn Văn Tư, nông dân xã Tân Hòa, cho biết với giá này mỗi công ruộng lãi khoảng 3 triệu đồng.",
            "Hiệp hội Lương thực Việt Nam dự báo giá gạo xuất khẩu còn đứng ở mức cao đến cuối năm.",
        ],
        absent=[
            "TTO -", "Kinh doanh", "15/08/2023 10:45", "Nông dân Đồng Tháp thu hoạch", "Xuất khẩu gạo lập kỷ lục",
            "Bảy tháng đầu năm", "Tin liên quan", "Từ khóa", "Zalo", "Bình luận", "giá phân bón", "Lê Thành",
            "Đọc thêm", "Giá cà phê", "Cơ quan chủ quản", "Giấy phép",
        ],
    ),
    "wire": Page(
        WIRE,
        title="Hội nghị báo cáo viên cấp Đảng ủy Khối các cơ quan Trung ương tháng 12/2023",
        date="2023-12-28",
        source="TTXVN",
        author="Diệp Trương",  # from the byline: the page's meta author names only the agency
        url=None,
        body=[
            "Chiều 28/12, tại Hà Nội, Đảng ủy Khối các cơ quan Trung ương tổ chức Hội nghị báo cáo viên tháng 12/2023.",
            "Tại hội nghị, các đại biểu được nghe thông tin về kết quả Hội nghị Trung ương 8 khóa XIII và tình hình kinh tế - xã hội năm 2023.",
            "Phát biểu tại hội nghị, đồng chí Phó Bí thư Đảng ủy Khối đề nghị các báo cáo viên bám sát thực tiễn, kịp thời định hướng tư tưởng cho cán bộ, đảng viên.",
        ],
        absent=[
            "Trang chủ", "Chính trị", "Chia sẻ", "In bài", "Diệp Trương (TTXVN)", "Tin liên quan", "cuốn sách",
            "Sáng 14/11", "Đọc nhiều", "rét đậm", "Các đơn vị thông tin", "Bản quyền", "Lý Thường Kiệt",
        ],
    ),
    "magazine": Page(
        MAGAZINE,
        title="Người giữ lửa nghề gốm Bát Tràng",
        date="2024-02-10",
        source="Tạp chí Heritage",
        author="Thu Hà",
        url="https://heritage.example.vn/nguoi-giu-lua-nghe-gom-bat-trang",
        body=[
            "Hơn 40 năm bên bàn xoay, nghệ nhân Trần Văn Độ vẫn tự tay nhào đất, chuốt men như thuở mới vào nghề.",
            "Xưởng gốm của ông Độ nằm sâu trong một con ngõ nhỏ ở làng Bát Tràng, huyện Gia Lâm.",
            "Giữ men cổ",
            "Ông kể men rạn cổ phải nung ở nhiệt độ chính xác, chỉ lệch vài chục độ là cả mẻ hỏng.",
            "Làm gốm là làm với lửa, không được vội.",
            "Hiện ông truyền nghề cho hai người con và hơn chục thợ trẻ trong làng.",
        ],
        absent=[
            "Di sản", "Văn hóa", "Du lịch", "Bài: Thu Hà", "Minh Đức", "bên lò gốm của gia đình",
            "Những chiếc bình men rạn vừa ra lò", "Chia sẻ bài viết", "Bài cùng chuyên mục", "Vạn Phúc",
            "khung cửi", "Giấy phép",
        ],
    ),
    "dantri": Page(
        DANTRI,
        title="Hơn 1 triệu thí sinh đăng ký thi tốt nghiệp THPT 2024",
        date="2024-05-20",
        source="Dân trí",
        author="Hoài Nam",
        url="https://dantri.com.vn/giao-duc/hon-1-trieu-thi-sinh-dang-ky-thi-20240520080000123.htm",
        body=[
            "Bộ Giáo dục và Đào tạo cho biết cả nước có hơn 1,07 triệu thí sinh đăng ký dự thi tốt nghiệp THPT năm 2024.",
            "Theo thống kê của Bộ, số thí sinh đăng ký tăng khoảng 50.000 em so với năm 2023.",
            "Trong đó, tỷ lệ thí sinh chọn bài thi khoa học xã hội chiếm hơn 63%, cao nhất từ trước đến nay.",
            "Kỳ thi tốt nghiệp THPT năm nay diễn ra ngày 27 và 28/6, kết quả được công bố vào ngày 17/7.",
            "2023 | 1.024.063",  # a table: a row a line, cells between " | "
            "2024 | 1.071.393",
            "Thí sinh có thể điều chỉnh nguyện vọng xét tuyển đại học từ ngày 18/7 đến 30/7.",
        ],
        absent=[
            "Xã hội", "Sức khỏe", "Tuyển sinh", "Hoài Nam", "Thứ hai", "Bình luận", "Chia sẻ", "(Dân trí)",
            "Thí sinh làm thủ tục", "Mạnh Quân", "Điểm chuẩn đại học", "Lịch thi tốt nghiệp",
            "Kỳ thi diễn ra trong hai ngày", "Từ khóa", "Con tôi năm nay thi", "Tin liên quan",
            "nghỉ hè sớm", "Các trường học tại Hà Nội", "Cơ quan chủ quản", "Bản quyền",
        ],
    ),
    "brief": Page(
        BRIEF,
        title="Giá vàng SJC giảm 500.000 đồng mỗi lượng",
        date="2024-04-12",
        source=None,
        author=None,
        url=None,
        body=[
            "Sáng 12/4, giá vàng miếng SJC giảm 500.000 đồng mỗi lượng ở cả hai chiều mua và bán.",
            "Giá bán ra còn 82,5 triệu đồng một lượng.",
        ],
        absent=["Trang chủ", "Tài chính", "Bản quyền", "Kinh tế Đô thị"],
    ),
    "thanhnien": Page(
        THANHNIEN,
        title='TP.HCM khởi công tuyến metro số 2 Bến Thành - Tham Lương',
        date='2024-01-15',
        source='Báo Thanh Niên',
        author='Đình Huy',
        url='https://thanhnien.vn/tphcm-khoi-cong-metro-so-2-185240115073000123.htm',
        body=[
            'Sáng nay, TP.HCM tổ chức lễ khởi công tuyến metro số 2 dài 11,3 km với tổng vốn đầu tư hơn 47.800 tỉ đồng.',
            'Tuyến metro số 2 có 9 ga ngầm và 1 ga trên cao, đi qua các quận 1, 3, 10, Tân Bình và 12.',
            'Theo Ban Quản lý đường sắt đô thị, dự án phấn đấu hoàn thành và đưa vào khai thác năm 2030.',
            'Người dân sống dọc tuyến bày tỏ mong đợi công trình sớm hoàn thành để giảm ùn tắc giao thông.',
        ],
        absent=['Phối cảnh ga', '17 đoàn tàu', 'Metro số 1 chạy thử', 'Chờ mãi', 'Hoàng Long', 'Thủ Thiêm 4', 'Tổng Biên tập', 'Giấy phép', 'Đời sống', 'Dân sinh', 'Từ khóa'],
    ),
    "vietnamnet": Page(
        VIETNAMNET,
        title='Nắng nóng kỷ lục, nhu cầu điện miền Bắc tăng vọt',
        date='2024-05-20',
        source='Báo VietNamNet',
        author='Thanh Hùng',
        url='https://vietnamnet.vn/nang-nong-ky-luc-nhu-cau-dien-tang-vot-2281234.html',
        body=[
            'Công suất tiêu thụ điện toàn miền Bắc ngày 19/5 đạt gần 24.000 MW, cao nhất từ trước đến nay.',
            'Theo Trung tâm Điều độ hệ thống điện quốc gia, sản lượng điện tiêu thụ tăng 12% so với cùng kỳ năm ngoái.',
            'Các nhà máy thủy điện lớn như Hòa Bình, Sơn La đang vận hành gần hết công suất để đáp ứng nhu cầu.',
            'EVN khuyến cáo người dân sử dụng điện tiết kiệm, nhất là trong khung giờ từ 13h đến 15h.',
        ],
        absent=['Công nhân điện lực', 'EVN kêu gọi', 'Tin nổi bật', 'Giá điện sinh hoạt', 'lấy ý kiến', 'Xã Đàn', 'Giải trí', 'Đầu tư'],
    ),
    "vov": Page(
        VOV,
        title='Xuất khẩu cà phê 4 tháng đạt gần 2,5 tỷ USD',
        date='2024-05-03',
        source='VOV.VN',
        author='Minh Hà',
        url=None,
        body=[
            'Bốn tháng đầu năm, cả nước xuất khẩu khoảng 800.000 tấn cà phê, thu về gần 2,5 tỷ USD.',
            'So với cùng kỳ năm trước, lượng xuất khẩu giảm 10% nhưng giá trị tăng tới 40% nhờ giá cà phê tăng cao.',
            'Giá cà phê robusta xuất khẩu bình quân đạt khoảng 3.200 USD mỗi tấn, mức cao nhất trong nhiều năm.',
            'Các doanh nghiệp dự báo nguồn cung cà phê sẽ tiếp tục khan hiếm đến cuối niên vụ.',
        ],
        absent=['Giá cà phê hôm nay lập đỉnh', 'Tin cùng chuyên mục', 'Giá lúa tại miền Tây', 'Đọc nhiều', 'Thời tiết nắng nóng', 'Cơ quan chủ quản', 'Thể thao', 'Tags'],
    ),
    "znews": Page(
        ZNEWS,
        title='Tuyển Việt Nam triệu tập 30 cầu thủ cho vòng loại World Cup',
        date='2024-03-11',
        source='ZNEWS.VN',
        author='Minh Khôi',
        url='https://znews.vn/tuyen-viet-nam-trieu-tap-30-cau-thu-post1456789.html',
        body=[
            'Huấn luyện viên Philippe Troussier công bố danh sách 30 cầu thủ chuẩn bị cho hai trận gặp Indonesia.',
            'Danh sách có sự trở lại của tiền vệ Nguyễn Quang Hải sau thời gian thi đấu tại Pháp.',
            'Đội tuyển sẽ hội quân tại Hà Nội vào ngày 14/3 trước khi sang Indonesia thi đấu lượt đi.',
            'Trận lượt về diễn ra trên sân Mỹ Đình ngày 26/3.',
        ],
        absent=['Quang Hải trở lại đội tuyển', 'Hy vọng đội tuyển', 'nhập tịch', 'Đọc tiếp', 'Giấy phép', 'Xuất bản', 'Chủ đề'],
    ),
    "portal": Page(
        PORTAL,
        title='Tỉnh tổ chức Hội nghị tổng kết công tác năm 2023',
        date='2024-01-05',
        source=None,
        author=None,
        url=None,
        body=[
            'Sáng 5/1, Ủy ban nhân dân tỉnh tổ chức Hội nghị tổng kết công tác năm 2023 và triển khai nhiệm vụ năm 2024.',
            'Năm 2023, tăng trưởng kinh tế của tỉnh đạt 7,2%, thu ngân sách vượt 15% dự toán được giao.',
            'Hội nghị đề ra mục tiêu tăng trưởng năm 2024 đạt từ 7,5% trở lên.',
        ],
        absent=['Các tin khác', 'Huân chương', 'Hội chợ Xuân', 'Bản quyền', 'Thủ tục hành chính', 'Giới thiệu'],
    ),
    "nld": Page(
        NLD,
        title='Công nhân được hỗ trợ tiền thuê nhà thêm 6 tháng',
        date='2024-02-22',
        source='NLĐO',
        author='Nam Dương',
        url='https://nld.com.vn/cong-nhan-duoc-ho-tro-tien-thue-nha-196240222194500000.htm',
        body=[
            'Chính phủ quyết định kéo dài chính sách hỗ trợ tiền thuê nhà cho công nhân thêm 6 tháng, đến hết tháng 6/2024.',
            'Mức hỗ trợ là 500.000 đồng mỗi người mỗi tháng đối với lao động đang làm việc trong doanh nghiệp.',
            'Người lao động quay trở lại thị trường lao động được hỗ trợ 1 triệu đồng mỗi tháng.',
            'Liên đoàn Lao động TP.HCM cho biết sẽ phối hợp với doanh nghiệp để lập danh sách chi trả kịp thời.',
        ],
        absent=['Lương tối thiểu vùng', 'ĐỌC THÊM', 'Số tiền hỗ trợ còn ít', 'vất vả tìm nhà trọ', 'Giá phòng trọ', 'Tổng Biên tập', 'Công đoàn', 'Từ khóa', '(NLĐO)'],
    ),
}


@pytest.mark.parametrize("name", PAGES)
def test_page_metadata(name):
    page = PAGES[name]
    reading = read_html(page.html, f"{name}.html")
    main = reading.documents[0]
    assert (main.title, main.date, main.source, main.author, main.url) == (
        page.title, page.date, page.source, page.author, page.url
    )
    assert main.doc_id == main.path == f"{name}.html"
    assert reading.uncertain is None


@pytest.mark.parametrize("name", PAGES)
def test_page_body_is_the_article_in_order(name):
    page = PAGES[name]
    (main,) = parse_html(page.html, f"{name}.html")
    assert main.text.split("\n\n") == page.body


@pytest.mark.parametrize("name", PAGES)
def test_nothing_around_the_article_is_taken_for_it(name):
    page = PAGES[name]
    for doc in parse_html(page.html, f"{name}.html"):
        for junk in page.absent:
            assert junk not in doc.text, junk
            assert junk not in doc.title, junk


def _article(body: str, after: str) -> str:
    return f"""<html><head><title>Đường sắt tốc độ cao Bắc - Nam - Báo A</title></head><body>
    <h1>Đường sắt tốc độ cao Bắc - Nam</h1><div class="detail">{body}</div>{after}</body></html>"""


BODY = (
    "<p>Quốc hội thông qua chủ trương đầu tư dự án đường sắt tốc độ cao trên trục Bắc - Nam dài 1.541 km.</p>"
    "<p>Tàu chạy với tốc độ thiết kế 350 km/h, dự kiến hoàn thành vào năm 2035.</p>"
)
ANOTHER_STORY = (
    "<div class='box'><p>Sáng nay, giá xăng RON 95 giảm 420 đồng mỗi lít, xuống còn 21.000 đồng theo điều chỉnh của liên Bộ.</p>"
    "<p>Đây là lần giảm thứ ba liên tiếp của mặt hàng này kể từ đầu tháng, theo thông báo của Bộ Công Thương.</p></div>"
)


@pytest.mark.parametrize(
    "section",
    [
        "<h3>Ý kiến bạn đọc</h3>",
        "<div class='title'>Bình luận (4)</div>",
        "<div id='comments'><p>Dự án này cần thiết cho đất nước, mong sớm được triển khai trên thực tế.</p></div>",
        "<section><span>Tin liên quan</span><ul><li><a href='/x'>Cao tốc Bắc - Nam</a></li></ul></section>",
        "<h4>Có thể bạn quan tâm</h4>",
    ],
)
def test_nothing_after_comments_or_related_stories_is_the_article(section):
    (doc,) = parse_html(_article(BODY, section + ANOTHER_STORY), "a.html")
    assert doc.text.startswith("Quốc hội thông qua") and doc.text.endswith("hoàn thành vào năm 2035.")
    assert "xăng" not in doc.text and "mong sớm" not in doc.text


def test_a_date_printed_by_the_headline_is_the_date_when_the_markup_has_none():
    html = VNEXPRESS.replace('<meta name="pubdate" content="2023-06-30T09:15:00+07:00">', "")
    html = html.replace('<time datetime="2023-06-30T09:15:00+07:00">', "<time>")
    assert parse_html(html, "vne.html")[0].date == "2023-06-30"  # "Thứ sáu, 30/6/2023, 09:15 (GMT+7)"


def test_a_comment_count_under_the_headline_does_not_hide_the_comments_after_the_body():
    # One block holds the headline, a "Bình luận (3)" line, the body and the comments.
    html = f"""<html><body><div class="wrap"><h1>Đường sắt tốc độ cao Bắc - Nam</h1>
    <div class="cmt-count">Bình luận (3)</div>{BODY}<h3>Ý kiến bạn đọc</h3>
    <p>Dự án này cần thiết cho đất nước, mong sớm được triển khai trên thực tế.</p>{ANOTHER_STORY}</div></body></html>"""
    (doc,) = parse_html(html, "a.html")
    assert doc.text.startswith("Quốc hội thông qua") and doc.text.endswith("hoàn thành vào năm 2035.")


def test_a_column_of_related_stories_between_headline_and_body_is_not_the_article():
    html = f"""<html><head><title>Đường sắt tốc độ cao Bắc - Nam - Báo A</title></head><body>
    <div class="header-detail"><h1>Đường sắt tốc độ cao Bắc - Nam</h1></div>
    <div class="row"><div class="col-left"><div class="title">Tin liên quan</div>
      <div class="item"><a href="/a">Cao tốc Bắc - Nam về đích</a><p>Tuyến cao tốc Bắc - Nam phía Đông hoàn thành thêm 12 dự án thành phần trong năm nay.</p></div>
      <div class="title">Xem nhiều</div>
      <div class="item"><a href="/b">Bão số 2 đổ bộ</a><p>Bão số 2 gây mưa lớn trên diện rộng tại các tỉnh Bắc Trung Bộ trong đêm qua.</p></div></div>
    <div class="col-main">{BODY}</div></div>
    <div class="comments"><h3>Bình luận</h3><p>Dự án này cần thiết, mong sớm được triển khai trên thực tế.</p></div></body></html>"""
    (doc,) = parse_html(html, "a.html")
    assert doc.text.split("\n\n") == [
        "Quốc hội thông qua chủ trương đầu tư dự án đường sắt tốc độ cao trên trục Bắc - Nam dài 1.541 km.",
        "Tàu chạy với tốc độ thiết kế 350 km/h, dự kiến hoàn thành vào năm 2035.",
    ]


def test_a_see_also_link_inside_a_paragraph_does_not_end_the_article():
    body = BODY.replace("</p><p>", "</p><p><strong>Xem thêm:</strong> <a href='/y'>Cao tốc Bắc - Nam</a></p><p>", 1)
    (doc,) = parse_html(_article(body, ""), "a.html")
    assert doc.text.endswith("hoàn thành vào năm 2035.")


def test_line_breaks_are_paragraphs_and_broken_markup_is_read():
    html = (
        "<html><body><h1>Cháy chung cư mini ở Hà Nội<p>Rạng sáng 13/9, một vụ cháy xảy ra tại chung cư mini ở quận Thanh Xuân."
        "<br><br>Lực lượng cứu hỏa đã có mặt sau 10 phút.<div class='comments'><p>Thật đau lòng, mong các nạn nhân sớm"
        " bình phục và được hỗ trợ.</p>"
    )
    (doc,) = parse_html(html, "chay.html")
    assert doc.title == "Cháy chung cư mini ở Hà Nội"
    assert doc.text.split("\n\n") == [
        "Rạng sáng 13/9, một vụ cháy xảy ra tại chung cư mini ở quận Thanh Xuân.",
        "Lực lượng cứu hỏa đã có mặt sau 10 phút.",
    ]


@pytest.mark.parametrize(
    "title,kept",
    [
        ("Bão số 3 đổ bộ Quảng Ninh - Hải Phòng - VnExpress", "Bão số 3 đổ bộ Quảng Ninh - Hải Phòng"),
        ("Bão số 3 đổ bộ Quảng Ninh - Hải Phòng | Báo Tuổi Trẻ", "Bão số 3 đổ bộ Quảng Ninh - Hải Phòng"),
        ("Bão số 3 đổ bộ Quảng Ninh - Hải Phòng - baotintuc.vn", "Bão số 3 đổ bộ Quảng Ninh - Hải Phòng"),
        ("Bão số 3 đổ bộ Quảng Ninh - Hải Phòng", "Bão số 3 đổ bộ Quảng Ninh - Hải Phòng"),
    ],
)
def test_site_name_is_cut_from_a_page_title(title, kept):
    html = f"""<html><head><title>{title}</title><meta property="og:site_name" content="VnExpress"></head>
    <body><div class="content"><p>Chiều 7/9, bão số 3 đổ bộ vào vùng ven biển Quảng Ninh - Hải Phòng với sức gió mạnh.</p></div></body></html>"""
    (doc,) = parse_html(html, "bao.html")
    assert doc.title == kept


def test_fragment_and_plain_text_saved_as_html_are_read():
    (doc,) = parse_html("<h1>Tiêu đề bài viết ngắn</h1><p>Một đoạn văn của bài viết, đủ dài để đọc.</p>", "f.html")
    assert (doc.title, doc.text) == ("Tiêu đề bài viết ngắn", "Một đoạn văn của bài viết, đủ dài để đọc.")
    reading = read_html("Tiêu đề bài viết ngắn\n\nMột đoạn văn bản thường, không có thẻ HTML nào.", "t.html")
    assert reading.documents[0].text == "Một đoạn văn bản thường, không có thẻ HTML nào."


def test_a_listing_page_is_flagged():
    items = "".join(
        f"<li><h3><a href='/a{i}'>Tin số {i} về giao thông</a></h3><p>Tóm tắt tin số {i} về giao thông trong thành phố hôm nay.</p></li>"
        for i in range(10)
    )
    html = f"""<html><head><meta property="og:type" content="website"><title>Thời sự - Báo B</title></head>
    <body><h1>Thời sự</h1><ul>{items}</ul></body></html>"""
    assert read_html(html, "thoi-su.html").uncertain == "the page says it is not an article (og:type website)"


@pytest.mark.parametrize(
    "html",
    [
        "",
        "  \n ",
        "<html><head><script>var a = 1;</script></head><body><script>document.write('x')</script></body></html>",
        "<html><body><h1>Chỉ có tiêu đề</h1></body></html>",
    ],
)
def test_a_page_without_article_text_is_an_error(html):
    with pytest.raises(ParseError, match="no article text found in HTML"):
        parse_html(html, "x.html")


def test_no_article_block_falls_back_to_the_whole_page(monkeypatch):
    import retrieval.ingest.html as html_module

    monkeypatch.setattr(html_module, "_main_text", lambda tree: [])
    reading = read_html(BRIEF, "brief.html")
    assert reading.uncertain == NO_ARTICLE_BLOCK
    assert "Giá bán ra còn 82,5 triệu đồng một lượng." in reading.documents[0].text


def test_a_large_page_is_read_in_reasonable_time():
    filler = "".join(
        f"<div class='item'><a href='/t{i}'>Tin khác số {i}</a><p>Tóm tắt của một tin khác số {i} trong chuyên mục.</p></div>"
        for i in range(3000)
    )
    html = VNEXPRESS.replace('<div class="sidebar-2">', f'<div class="sidebar-2">{filler}')
    assert len(html) > 300_000
    start = time.perf_counter()
    (doc,) = parse_html(html, "big.html")
    assert time.perf_counter() - start < 10
    assert doc.text.split("\n\n") == PAGES["vnexpress"].body
